/*-------------------------------------------------------------------------
 *
 * pg_stubs.c
 *	  Just enough of the PostgreSQL backend for period.c to run inside a libFuzzer
 *	  process: memory allocation, error reporting (ERROR longjmps back to the
 *	  harness), and the calendar primitives. Everything else period.c links against
 *	  aborts, so a fuzz input that reaches it shows up as a crash.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "parser/scansup.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/rangetypes.h"
#include "utils/sortsupport.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "fuzz_stubs.h"

MemoryContext CurrentMemoryContext = NULL;
pg_tz	   *session_timezone = NULL;

/* every allocation of one fuzz input, freed together afterwards */
static void **allocations;
static size_t n_allocations,
			max_allocations;

sigjmp_buf	fuzz_error_jmp;
int			fuzz_error_code;
char		fuzz_error_message[512];
static int	pending_elevel;

static void *
Track(void *p)
{
	if (p == NULL)
		abort();
	if (n_allocations == max_allocations)
	{
		max_allocations = max_allocations ? 2 * max_allocations : 64;
		allocations = realloc(allocations, max_allocations * sizeof(void *));
	}
	allocations[n_allocations++] = p;
	return p;
}

void
fuzz_free_all(void)
{
	for (size_t i = 0; i < n_allocations; i++)
		free(allocations[i]);
	n_allocations = 0;
}

void *
palloc(Size size)
{
	return Track(malloc(size ? size : 1));
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return Track(calloc(1, size ? size : 1));
}

void
pfree(void *pointer)
{
	/* freed with the rest of the input's allocations */
}

char *
pstrdup(const char *in)
{
	return strcpy(palloc(strlen(in) + 1), in);
}

char *
pnstrdup(const char *in, Size len)
{
	char	   *out = palloc(len + 1);

	len = strnlen(in, len);
	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

char *
psprintf(const char *fmt,...)
{
	va_list		args;
	char	   *out = palloc(256);

	va_start(args, fmt);
	vsnprintf(out, 256, fmt, args);
	va_end(args);
	return out;
}

char *
downcase_truncate_identifier(const char *ident, int len, bool warn)
{
	char	   *out = palloc(len + 1);

	for (int i = 0; i < len; i++)
		out[i] = (ident[i] >= 'A' && ident[i] <= 'Z') ? ident[i] + ('a' - 'A') : ident[i];
	out[len] = '\0';
	return out;
}

int
pg_strncasecmp(const char *s1, const char *s2, size_t n)
{
	return strncasecmp(s1, s2, n);
}

/* error reporting: remember the SQLSTATE and message, longjmp on ERROR */
bool
errstart_cold(int elevel, const char *domain)
{
	pending_elevel = elevel;
	fuzz_error_code = 0;
	fuzz_error_message[0] = '\0';
	return true;
}

bool
errstart(int elevel, const char *domain)
{
	return errstart_cold(elevel, domain);
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	if (pending_elevel >= ERROR)
		siglongjmp(fuzz_error_jmp, 1);
}

int
errcode(int sqlerrcode)
{
	fuzz_error_code = sqlerrcode;
	return 0;
}

int
errmsg(const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	vsnprintf(fuzz_error_message, sizeof(fuzz_error_message), fmt, args);
	va_end(args);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	fuzz_error_code = ERRCODE_INTERNAL_ERROR;
	return 0;
}

int
errdetail(const char *fmt,...)
{
	return 0;
}

int
errhint(const char *fmt,...)
{
	return 0;
}

/*
 * Calendar primitives with PostgreSQL's Julian day numbering (2000-01-01 is day
 * 2451545), written from the proleptic Gregorian calendar's day-count formula.
 */
const int	day_tab[2][13] = {
	{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0},
	{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0}
};

int
date2j(int year, int month, int day)
{
	int64		y = year - (month <= 2);
	int64		era = (y >= 0 ? y : y - 399) / 400;
	int64		yoe = y - era * 400;
	int64		doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	int64		doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (int) (era * 146097 + doe - 719468 + 2440588);
}

void
j2date(int jd, int *year, int *month, int *day)
{
	int64		z = (int64) jd - 2440588 + 719468;
	int64		era = (z >= 0 ? z : z - 146096) / 146097;
	int64		doe = z - era * 146097;
	int64		yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64		doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64		mp = (5 * doy + 2) / 153;

	*day = (int) (doy - (153 * mp + 2) / 5 + 1);
	*month = (int) (mp < 10 ? mp + 3 : mp - 9);
	*year = (int) (yoe + era * 400 + (*month <= 2));
}

int
j2day(int jd)
{
	int			d = (jd + 1) % 7;

	return d < 0 ? d + 7 : d;
}
