/*-------------------------------------------------------------------------
 *
 * period_fuzzer.c
 *	  libFuzzer harness for customer_period's text input and kind names.
 *
 * Input byte 0 chooses the target; the rest is the text. For a period literal it
 * checks that input either fails with a class-22 SQLSTATE or yields a valid period
 * whose canonical text reads back to the same value, whose first day lies in it, and
 * whose span tiles with its neighbours. For a kind name it checks the name either
 * fails with 22023 or round-trips through its canonical name. Any other outcome
 * (crash, sanitizer report, abort) is a finding. See README.md for how to run it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmgr.h"
#include "utils/datetime.h"
#include "utils/elog.h"

#include "../../src/period.h"
#include "fuzz_stubs.h"

extern Datum customer_period_in(PG_FUNCTION_ARGS);

static void
Fail(const char *what, const char *input)
{
	fprintf(stderr, "FINDING: %s for input \"%s\"\n", what, input);
	abort();
}

/* parse text with customer_period_in; false (with fuzz_error_code set) on ERROR */
static bool
TryParse(const char *text, CustomerPeriod *result)
{
	LOCAL_FCINFO(fcinfo, 1);

	if (sigsetjmp(fuzz_error_jmp, 0) != 0)
		return false;
	memset(fcinfo, 0, SizeForFunctionCallInfo(1));
	fcinfo->nargs = 1;
	fcinfo->args[0].value = CStringGetDatum(text);
	*result = DatumGetCustomerPeriod(customer_period_in(fcinfo));
	return true;
}

static void
CheckLiteral(const char *text)
{
	CustomerPeriod p,
				again;
	char	   *canonical;

	if (!TryParse(text, &p))
	{
		if (ERRCODE_TO_CATEGORY(fuzz_error_code) != ERRCODE_DATA_EXCEPTION)
			Fail("error outside SQLSTATE class 22", text);
		return;
	}
	if (!PeriodIsValid(p))
		Fail("input produced an invalid period", text);
	canonical = PeriodToCString(p);
	if (!TryParse(canonical, &again) || again != p)
		Fail("canonical text does not read back", text);
	if (strcmp(PeriodToCString(again), canonical) != 0)
		Fail("canonical text is not stable", text);
	if (PeriodStartDate(p) >= PeriodEndDate(p))
		Fail("empty period", text);
	if (sigsetjmp(fuzz_error_jmp, 0) != 0)
		Fail("error while checking a valid period", text);
	if (PeriodFromDate(PeriodStartDate(p), PERIOD_GET_UNIT(p)) != p ||
		PeriodFromDate(PeriodEndDate(p) - 1, PERIOD_GET_UNIT(p)) != p)
		Fail("period does not contain its own first and last days", text);
}

static void
CheckKind(const char *text)
{
	PeriodUnit	u;
	char	   *name;

	if (sigsetjmp(fuzz_error_jmp, 0) != 0)
	{
		if (fuzz_error_code != ERRCODE_INVALID_PARAMETER_VALUE)
			Fail("kind error is not 22023", text);
		return;
	}
	u = PeriodUnitFromName(text);
	if (!PeriodUnitIsValid(u))
		Fail("kind name produced an invalid unit", text);
	name = PeriodUnitName(u);
	if (PeriodUnitFromName(name) != u)
		Fail("kind name does not read back", text);
}

/* the stubbed calendar must number days as PostgreSQL does */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int			y,
				m,
				d;

	j2date(POSTGRES_EPOCH_JDATE, &y, &m, &d);
	if (date2j(2000, 1, 1) != POSTGRES_EPOCH_JDATE || y != 2000 || m != 1 || d != 1 ||
		j2day(POSTGRES_EPOCH_JDATE) != 6 || date2j(1, 1, 1) != 1721426)
		Fail("calendar stubs disagree with PostgreSQL", "");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text;

	if (size < 1 || size > 64)
		return 0;
	text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (data[0] & 1)
		CheckKind(text);
	else
		CheckLiteral(text);
	fuzz_free_all();
	free(text);
	return 0;
}
