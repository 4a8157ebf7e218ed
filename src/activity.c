/*-------------------------------------------------------------------------
 *
 * activity.c
 *	  The customer_activity type (one customer's active periods with their
 *	  orders and revenue), its aggregate activity_agg, merging, accessors, and
 *	  the exact-amount and text-parsing helpers the cohort and retention
 *	  states share.
 *
 * The text form is <first period>|<bitmap in hex>|<orders>:<revenue>,...
 * (one orders:revenue pair per active period, in time order), for example
 * 1997-01|05|1:11.77,2:24 for a customer active in January (one order, 11.77)
 * and March 1997 (two orders, 24.00). It is canonical, so equal activities
 * have equal text, and it round-trips exactly.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/syscache.h"

#include "activity.h"

/* entries decoded on the stack before falling back to palloc */
#define ACTIVITY_STACK_ENTRIES 64

/* Numeric's on-disk header bits (a stable format: pg_upgrade keeps numeric data). */
#define NUM_SIGN_MASK			0xC000
#define NUM_NEG					0x4000
#define NUM_SHORT				0x8000
#define NUM_SPECIAL				0xC000
#define NUM_SHORT_SIGN_MASK		0x2000
#define NUM_SHORT_WEIGHT_SIGN	0x0040
#define NUM_SHORT_WEIGHT_MASK	0x003F
#define NUM_BASE				10000

/*
 * Number of bytes the unsigned LEB128 encoding of v takes.
 */
static inline int
VarintLen(uint64 v)
{
	int			n = 1;

	while (v >= 0x80)
	{
		v >>= 7;
		n++;
	}
	return n;
}

/*
 * Write v as unsigned LEB128 at p; returns the number of bytes written.
 */
static inline int
VarintPut(uint8 *p, uint64 v)
{
	int			n = 0;

	while (v >= 0x80)
	{
		p[n++] = (uint8) (v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8) v;
	return n;
}

/*
 * Read an unsigned LEB128 value at *p (not past end), advancing *p. Stored data is
 * validated on input, so running off the end means corruption: a can't-happen error.
 */
static inline uint64
VarintGet(const uint8 **p, const uint8 *end)
{
	uint64		v = 0;
	int			shift = 0;

	for (;;)
	{
		uint8		b;

		if (*p >= end || shift > 63)
			elog(ERROR, "corrupted customer_activity value");
		b = *(*p)++;
		v |= (uint64) (b & 0x7F) << shift;
		if ((b & 0x80) == 0)
			return v;
		shift += 7;
	}
}

/*
 * Revenue as stored: whole hundredths (the common case for money) take one bit
 * less room, by storing v/100 with a low 0 bit, else v with a low 1 bit.
 */
static inline uint64
RevenueCode(int64 v)
{
	if (v % 100 == 0)
		return ((uint64) (v / 100)) << 1;
	return ((uint64) v << 1) | 1;
}

/*
 * Inverse of RevenueCode.
 */
static inline int64
RevenueFromCode(uint64 c)
{
	if (c & 1)
		return (int64) (c >> 1);
	return (int64) (c >> 1) * 100;
}

/*
 * Add two non-negative scaled amounts, erroring on overflow.
 */
int64
AddScaled(int64 a, int64 b)
{
	int64		r;

	if (pg_add_s64_overflow(a, b, &r))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("revenue out of range"),
				 errdetail("Revenue sums are held exactly up to 922337203685477.5807.")));
	return r;
}

/*
 * Decode the active periods described by header a, whose bitmap starts at
 * bitmap and whose data ends at end (the header may be a copy: short varlenas
 * are read in place), into buf when it holds enough entries, else into a
 * palloc'd array. Returns the array used.
 */
static ActivityEntry *
DecodeBody(const ActivityData *a, const uint8 *bitmap, const uint8 *end, ActivityEntry *buf, int bufsize)
{
	ActivityEntry *e = (a->nactive <= bufsize) ? buf : palloc(sizeof(ActivityEntry) * a->nactive);
	const uint8 *p = bitmap + ACTIVITY_BITMAP_BYTES(a->span);
	int			n = 0;
	int			i;

	for (i = 0; i < a->span; i++)
	{
		if (!((bitmap[i >> 3] >> (i & 7)) & 1))
			continue;
		if (n >= a->nactive)
			elog(ERROR, "corrupted customer_activity value");
		e[n].ordinal = a->first + i;
		e[n].orders = (int32) VarintGet(&p, end);
		e[n].revenue = RevenueFromCode(VarintGet(&p, end));
		n++;
	}
	if (n != a->nactive)
		elog(ERROR, "corrupted customer_activity value");
	return e;
}

/*
 * Decode the active periods of an activity into buf when it holds enough
 * entries, else into a palloc'd array. Returns the array used.
 */
ActivityEntry *
ActivityDecode(const ActivityData *a, ActivityEntry *buf, int bufsize)
{
	return DecodeBody(a, a->data, (const uint8 *) a + VARSIZE(a), buf, bufsize);
}

/*
 * Decode an activity datum as ActivityDecode does, without the aligned copy
 * detoasting makes of a short (1-byte header) value: the header fields are
 * copied into *hdr (whose data member must not be used), the rest is read in
 * place. The hot path of cohort_agg and retention_agg over stored activities.
 */
ActivityEntry *
ActivityDecodeDatum(Datum d, ActivityData *hdr, ActivityEntry *buf, int bufsize)
{
	struct varlena *v = PG_DETOAST_DATUM_PACKED(d);
	const uint8 *body = (const uint8 *) VARDATA_ANY(v);
	Size		hdrlen = offsetof(ActivityData, data) - VARHDRSZ;

	if (VARSIZE_ANY_EXHDR(v) < hdrlen)
		elog(ERROR, "corrupted customer_activity value");
	memcpy((char *) hdr + VARHDRSZ, body, hdrlen);
	if (hdr->version != ACTIVITY_VERSION)
		elog(ERROR, "corrupted customer_activity value");
	return DecodeBody(hdr, body + hdrlen, body + VARSIZE_ANY_EXHDR(v), buf, bufsize);
}

/*
 * Error out if an activity would span more than ACTIVITY_MAX_SPAN periods.
 */
static void
CheckSpan(int64 span)
{
	if (span > ACTIVITY_MAX_SPAN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("customer activity spans too many periods"),
				 errdetail("An activity may span at most %d periods; this one spans " INT64_FORMAT ".",
						   ACTIVITY_MAX_SPAN, span),
				 errhint("Use a coarser period kind.")));
}

/*
 * Build an activity (palloc'd in the current context) from n >= 1 entries in
 * strictly increasing ordinal order.
 */
ActivityData *
ActivityEncode(PeriodUnit unit, const ActivityEntry *entries, int n)
{
	int32		first = entries[0].ordinal;
	int64		span = (int64) entries[n - 1].ordinal - first + 1;
	Size		size;
	ActivityData *a;
	uint8	   *p;
	int			i;

	CheckSpan(span);
	size = offsetof(ActivityData, data) + ACTIVITY_BITMAP_BYTES(span);
	for (i = 0; i < n; i++)
		size += VarintLen((uint64) entries[i].orders) + VarintLen(RevenueCode(entries[i].revenue));

	a = palloc0(size);
	SET_VARSIZE(a, size);
	a->version = ACTIVITY_VERSION;
	a->unit = unit;
	a->first = first;
	a->span = (int32) span;
	a->nactive = n;
	p = a->data + ACTIVITY_BITMAP_BYTES(span);
	for (i = 0; i < n; i++)
	{
		int			bit = entries[i].ordinal - first;

		a->data[bit >> 3] |= (uint8) (1 << (bit & 7));
		p += VarintPut(p, (uint64) entries[i].orders);
		p += VarintPut(p, RevenueCode(entries[i].revenue));
	}
	Assert(p == (uint8 *) a + size);
	return a;
}

/*
 * Error out unless a period of unit got may join an activity or state of unit have.
 */
void
CheckActivityUnit(PeriodUnit have, PeriodUnit got, const char *what)
{
	if (have != got)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine periods of different kinds in %s", what),
				 errdetail("Kind \"%s\" met kind \"%s\".",
						   PeriodUnitName(have), PeriodUnitName(got)),
				 errhint("Build activities of one customer_period kind per aggregate.")));
}

/*
 * Convert a numeric amount to an exact int64 count of 1/10000 units, reading
 * numeric's on-disk digits (base 10000) directly, which is much cheaper than
 * numeric arithmetic. Negative, NaN and infinite amounts, and amounts with
 * more than four decimal places, are errors; what names the function.
 */
int64
NumericToScaled(Datum num, const char *what)
{
	struct varlena *v = PG_DETOAST_DATUM_PACKED(num);
	const char *p = VARDATA_ANY(v);
	int			len = VARSIZE_ANY_EXHDR(v);
	uint16		head;
	int			weight;
	int			hdr;
	int			ndigits;
	bool		neg;
	int64		r = 0;
	int			i;
	int			m;

	memcpy(&head, p, sizeof(uint16));
	if ((head & NUM_SIGN_MASK) == NUM_SPECIAL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("amount must be a finite number in %s", what)));
	if ((head & NUM_SIGN_MASK) == NUM_SHORT)
	{
		neg = (head & NUM_SHORT_SIGN_MASK) != 0;
		weight = head & NUM_SHORT_WEIGHT_MASK;
		if (head & NUM_SHORT_WEIGHT_SIGN)
			weight |= ~NUM_SHORT_WEIGHT_MASK;
		hdr = sizeof(uint16);
	}
	else
	{
		int16		w;

		neg = (head & NUM_SIGN_MASK) == NUM_NEG;
		memcpy(&w, p + sizeof(uint16), sizeof(int16));
		weight = w;
		hdr = 2 * sizeof(uint16);
	}
	ndigits = (len - hdr) / sizeof(int16);
	if (ndigits == 0)
		return 0;
	if (neg)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("amount must not be negative in %s", what),
				 errhint("Leave refunds out, or net them against the order they refund before aggregating.")));

	/* digit i is worth NUM_BASE^(weight - i) units, so NUM_BASE^(weight - i + 1) scaled units */
	m = Min(ndigits, Max(weight + 2, 0));
	for (i = 0; i < ndigits; i++)
	{
		int16		d;

		memcpy(&d, p + hdr + i * sizeof(int16), sizeof(int16));
		if (i >= m)
		{
			if (d != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("amount has more than %d decimal places in %s", ACTIVITY_SCALE_DIGITS, what),
						 errhint("Round amounts to %d decimal places.", ACTIVITY_SCALE_DIGITS)));
			continue;
		}
		if (pg_mul_s64_overflow(r, NUM_BASE, &r) || pg_add_s64_overflow(r, d, &r))
			goto overflow;
	}
	for (i = m; i < weight + 2; i++)
		if (pg_mul_s64_overflow(r, NUM_BASE, &r))
			goto overflow;
	return r;

overflow:
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("amount out of range in %s", what),
			 errdetail("Amounts are held exactly up to 922337203685477.5807.")));
	return 0;					/* keep the compiler quiet */
}

/*
 * Append a scaled amount in its shortest exact decimal form.
 */
void
AppendScaled(StringInfo buf, int64 v)
{
	int64		frac = v % ACTIVITY_SCALE;
	int			digits = ACTIVITY_SCALE_DIGITS;

	appendStringInfo(buf, INT64_FORMAT, v / ACTIVITY_SCALE);
	if (frac == 0)
		return;
	while (frac % 10 == 0)
	{
		frac /= 10;
		digits--;
	}
	appendStringInfo(buf, ".%0*d", digits, (int) frac);
}

/*
 * A scaled amount as a numeric with at least two decimal places (money style).
 */
Datum
ScaledToNumeric(int64 v)
{
	StringInfoData buf;

	initStringInfo(&buf);
	AppendScaled(&buf, v);
	if (v % ACTIVITY_SCALE == 0)
		appendStringInfoString(&buf, ".00");
	else if (v % 1000 == 0)
		appendStringInfoChar(&buf, '0');
	return DirectFunctionCall3(numeric_in, CStringGetDatum(buf.data),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/*
 * round(num * mult / den, digits) as a numeric, computed with numeric
 * arithmetic (so it equals the same expression in SQL); NULL-free: den > 0.
 */
Datum
RoundedRatio(int64 num, int64 den, int64 mult, int digits)
{
	Datum		x = DirectFunctionCall2(numeric_mul,
										NumericGetDatum(int64_to_numeric(num)),
										NumericGetDatum(int64_to_numeric(mult)));

	x = DirectFunctionCall2(numeric_div, x, NumericGetDatum(int64_to_numeric(den)));
	return DirectFunctionCall2(numeric_round, x, Int32GetDatum(digits));
}

/*
 * Report a malformed literal of type typname.
 */
static void
BadLiteral(const char *typname, const char *input, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", typname, input),
			 errdetail("%s", detail)));
}

/*
 * Consume character c at *s or report a malformed literal.
 */
void
ExpectChar(const char **s, char c, const char *typname, const char *input)
{
	if (**s != c)
		BadLiteral(typname, input, psprintf("Expected \"%c\" at position %d.", c, (int) (*s - input) + 1));
	(*s)++;
}

/*
 * Parse a non-negative decimal integer at *s, advancing it.
 */
int64
ParseCount(const char **s, const char *typname, const char *input)
{
	int64		r = 0;
	const char *start = *s;

	while (**s >= '0' && **s <= '9')
	{
		if (pg_mul_s64_overflow(r, 10, &r) || pg_add_s64_overflow(r, **s - '0', &r))
			BadLiteral(typname, input, "A count is out of range.");
		(*s)++;
	}
	if (*s == start)
		BadLiteral(typname, input, psprintf("Expected a number at position %d.", (int) (start - input) + 1));
	return r;
}

/*
 * Parse a non-negative amount with at most four decimal places at *s into
 * scaled units, advancing it.
 */
int64
ParseScaled(const char **s, const char *typname, const char *input)
{
	int64		r = ParseCount(s, typname, input);
	int			digits = 0;

	if (pg_mul_s64_overflow(r, ACTIVITY_SCALE, &r))
		BadLiteral(typname, input, "An amount is out of range.");
	if (**s == '.')
	{
		int64		frac = 0;

		(*s)++;
		while (**s >= '0' && **s <= '9' && digits < ACTIVITY_SCALE_DIGITS)
		{
			frac = frac * 10 + (**s - '0');
			digits++;
			(*s)++;
		}
		if (digits == 0 || (**s >= '0' && **s <= '9'))
			BadLiteral(typname, input, "An amount has a malformed fraction.");
		while (digits++ < ACTIVITY_SCALE_DIGITS)
			frac *= 10;
		if (pg_add_s64_overflow(r, frac, &r))
			BadLiteral(typname, input, "An amount is out of range.");
	}
	return r;
}

/*
 * Parse the text of a customer_period through the type's own input function
 * (looked up by name, so this file depends only on period.h).
 */
CustomerPeriod
PeriodFromText(const char *s)
{
	Oid			nsp = get_namespace_oid("retention", false);
	Oid			typoid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
										 CStringGetDatum("customer_period"),
										 ObjectIdGetDatum(nsp));
	Oid			infunc;
	Oid			ioparam;

	if (!OidIsValid(typoid))
		elog(ERROR, "type retention.customer_period does not exist");
	getTypeInputInfo(typoid, &infunc, &ioparam);
	return DatumGetCustomerPeriod(OidInputFunctionCall(infunc, (char *) s, ioparam, -1));
}

/*
 * Check a decoded list of entries read from outside (text or binary input).
 */
static void
CheckEntries(const ActivityEntry *e, int n, const char *input)
{
	int			i;

	for (i = 0; i < n; i++)
		if (e[i].orders < 1)
			BadLiteral("customer_activity", input, "Every active period has at least one order.");
}

/*
 * Turn the hex bitmap at *s plus the first ordinal into entries (orders and
 * revenue left zero); returns the number of active periods.
 */
static int
ParseBitmap(const char **s, int32 first, ActivityEntry **out, const char *input)
{
	const char *start = *s;
	int			nhex;
	int			nbytes;
	int			n = 0;
	int			i;
	ActivityEntry *e;

	while (isxdigit((unsigned char) **s))
		(*s)++;
	nhex = *s - start;
	if (nhex == 0 || nhex % 2 != 0)
		BadLiteral("customer_activity", input, "The active-period bitmap must be an even number of hex digits.");
	nbytes = nhex / 2;
	if (nbytes > ACTIVITY_BITMAP_BYTES(ACTIVITY_MAX_SPAN))
		BadLiteral("customer_activity", input, "The activity spans too many periods.");
	e = palloc(sizeof(ActivityEntry) * nbytes * 8);
	for (i = 0; i < nbytes; i++)
	{
		char		hex[3] = {start[2 * i], start[2 * i + 1], 0};
		int			byte = (int) strtol(hex, NULL, 16);
		int			b;

		for (b = 0; b < 8; b++)
			if (byte & (1 << b))
			{
				e[n].ordinal = first + i * 8 + b;
				e[n].orders = 0;
				e[n].revenue = 0;
				n++;
			}
		if (i == nbytes - 1 && byte == 0)
			BadLiteral("customer_activity", input, "The active-period bitmap has a trailing zero byte.");
	}
	if (n == 0 || e[0].ordinal != first)
		BadLiteral("customer_activity", input, "The first bit of the bitmap (the first period) must be set.");
	*out = e;
	return n;
}

PG_FUNCTION_INFO_V1(activity_in);

/*
 * Text input: <first period>|<bitmap hex>|<orders>:<revenue>,...
 */
Datum
activity_in(PG_FUNCTION_ARGS)
{
	const char *input = PG_GETARG_CSTRING(0);
	const char *bar = strchr(input, '|');
	const char *s;
	CustomerPeriod first;
	ActivityEntry *e;
	int			n;
	int			i;

	if (bar == NULL)
		BadLiteral("customer_activity", input, "Expected \"<first period>|<bitmap>|<orders>:<revenue>,...\".");
	first = PeriodFromText(pnstrdup(input, bar - input));
	s = bar + 1;
	n = ParseBitmap(&s, PERIOD_GET_ORDINAL(first), &e, input);
	/* the last period must exist in the unit's supported range */
	(void) PeriodFromOrdinal(PERIOD_GET_UNIT(first), e[n - 1].ordinal);
	ExpectChar(&s, '|', "customer_activity", input);
	for (i = 0; i < n; i++)
	{
		int64		orders;

		if (i > 0)
			ExpectChar(&s, ',', "customer_activity", input);
		orders = ParseCount(&s, "customer_activity", input);
		if (orders > PG_INT32_MAX)
			BadLiteral("customer_activity", input, "An order count is out of range.");
		e[i].orders = (int32) orders;
		ExpectChar(&s, ':', "customer_activity", input);
		e[i].revenue = ParseScaled(&s, "customer_activity", input);
	}
	if (*s != '\0')
		BadLiteral("customer_activity", input, "There must be one orders:revenue pair per active period and nothing after them.");
	CheckEntries(e, n, input);
	PG_RETURN_POINTER(ActivityEncode(PERIOD_GET_UNIT(first), e, n));
}

PG_FUNCTION_INFO_V1(activity_out);

/*
 * Text output (see activity_in).
 */
Datum
activity_out(PG_FUNCTION_ARGS)
{
	ActivityData *a = PG_GETARG_ACTIVITY(0);
	ActivityEntry buf[ACTIVITY_STACK_ENTRIES];
	ActivityEntry *e = ActivityDecode(a, buf, ACTIVITY_STACK_ENTRIES);
	StringInfoData out;
	int			nbytes = ACTIVITY_BITMAP_BYTES(a->span);
	int			i;

	initStringInfo(&out);
	appendStringInfo(&out, "%s|", PeriodToCString(PERIOD_MAKE(a->unit, a->first)));
	for (i = 0; i < nbytes; i++)
		appendStringInfo(&out, "%02x", a->data[i]);
	appendStringInfoChar(&out, '|');
	for (i = 0; i < a->nactive; i++)
	{
		if (i > 0)
			appendStringInfoChar(&out, ',');
		appendStringInfo(&out, "%d:", e[i].orders);
		AppendScaled(&out, e[i].revenue);
	}
	PG_RETURN_CSTRING(out.data);
}

PG_FUNCTION_INFO_V1(activity_send);

/*
 * Binary output: version byte, first period (int8), number of active periods
 * (int4), then per active period its offset from the first (int4), orders
 * (int4) and revenue in 1/10000 units (int8).
 */
Datum
activity_send(PG_FUNCTION_ARGS)
{
	ActivityData *a = PG_GETARG_ACTIVITY(0);
	ActivityEntry buf[ACTIVITY_STACK_ENTRIES];
	ActivityEntry *e = ActivityDecode(a, buf, ACTIVITY_STACK_ENTRIES);
	StringInfoData out;
	int			i;

	pq_begintypsend(&out);
	pq_sendbyte(&out, ACTIVITY_VERSION);
	pq_sendint64(&out, (int64) PERIOD_MAKE(a->unit, a->first));
	pq_sendint32(&out, a->nactive);
	for (i = 0; i < a->nactive; i++)
	{
		pq_sendint32(&out, e[i].ordinal - a->first);
		pq_sendint32(&out, e[i].orders);
		pq_sendint64(&out, e[i].revenue);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&out));
}

/*
 * Report malformed binary input.
 */
static void
BadBinary(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid external customer_activity value"),
			 errdetail("%s", detail)));
}

PG_FUNCTION_INFO_V1(activity_recv);

/*
 * Binary input (see activity_send), validated as strictly as text input.
 */
Datum
activity_recv(PG_FUNCTION_ARGS)
{
	StringInfo	in = (StringInfo) PG_GETARG_POINTER(0);
	CustomerPeriod first;
	int32		n;
	ActivityEntry *e;
	int			i;

	if (pq_getmsgbyte(in) != ACTIVITY_VERSION)
		BadBinary("Unknown format version.");
	first = (CustomerPeriod) pq_getmsgint64(in);
	if (!PeriodIsValid(first))
		BadBinary("The first period is not a valid customer_period.");
	n = pq_getmsgint(in, 4);
	if (n < 1 || n > ACTIVITY_MAX_SPAN)
		BadBinary("The number of active periods is out of range.");
	e = palloc(sizeof(ActivityEntry) * n);
	for (i = 0; i < n; i++)
	{
		int32		off = pq_getmsgint(in, 4);

		if ((i == 0 && off != 0) || (i > 0 && off <= e[i - 1].ordinal - PERIOD_GET_ORDINAL(first)) ||
			off >= ACTIVITY_MAX_SPAN)
			BadBinary("Period offsets must start at 0 and increase.");
		e[i].ordinal = PERIOD_GET_ORDINAL(first) + off;
		e[i].orders = pq_getmsgint(in, 4);
		e[i].revenue = pq_getmsgint64(in);
		if (e[i].orders < 1 || e[i].revenue < 0)
			BadBinary("Orders must be positive and revenue not negative.");
	}
	(void) PeriodFromOrdinal(PERIOD_GET_UNIT(first), e[n - 1].ordinal);
	PG_RETURN_POINTER(ActivityEncode(PERIOD_GET_UNIT(first), e, n));
}

/*
 * Merge two sorted entry lists, summing orders and revenue of shared periods,
 * into out (room for na + nb); returns the merged length.
 */
static int
MergeEntries(const ActivityEntry *a, int na, const ActivityEntry *b, int nb, ActivityEntry *out)
{
	int			i = 0,
				j = 0,
				n = 0;

	while (i < na || j < nb)
	{
		if (j >= nb || (i < na && a[i].ordinal < b[j].ordinal))
			out[n++] = a[i++];
		else if (i >= na || b[j].ordinal < a[i].ordinal)
			out[n++] = b[j++];
		else
		{
			out[n] = a[i];
			if (pg_add_s32_overflow(a[i].orders, b[j].orders, &out[n].orders))
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("order count out of range in customer_activity")));
			out[n].revenue = AddScaled(a[i].revenue, b[j].revenue);
			n++, i++, j++;
		}
	}
	return n;
}

PG_FUNCTION_INFO_V1(activity_agg_trans);

/*
 * Add one order (add: ordinal, orders 1, revenue) to activity a without
 * decoding it, for a period at or after a's first one: the varint stream is
 * spliced at the period's place. Returns a itself, updated in place, when
 * in_place allows and the size does not change; else a new activity in the
 * current context.
 */
static ActivityData *
ActivitySplice(ActivityData *a, const ActivityEntry *add, bool in_place)
{
	int32		off = add->ordinal - a->first;
	int			oldbytes = ACTIVITY_BITMAP_BYTES(a->span);
	int64		span = Max(a->span, (int64) off + 1);
	int			bytes = ACTIVITY_BITMAP_BYTES(span);
	bool		exists = off < a->span && ACTIVITY_BIT(a, off);
	const uint8 *stream = a->data + oldbytes;
	const uint8 *end = (const uint8 *) a + VARSIZE(a);
	const uint8 *at = stream;
	const uint8 *after;
	int			before = 0;		/* active periods before off */
	uint8		pair[20];
	int			pairlen;
	int32		orders = 1;
	int64		revenue = add->revenue;
	Size		size;
	ActivityData *r;
	uint8	   *w;
	int			i;

	Assert(off >= 0);
	CheckSpan(span);
	for (i = 0; i < Min(off, a->span); i++)
		before += ACTIVITY_BIT(a, i);
	/* skip the orders and revenue varints of the periods before */
	for (i = 0; i < 2 * before; i++)
		while (*at++ & 0x80)
			;
	after = at;
	if (exists)
	{
		orders = (int32) VarintGet(&after, end);
		revenue = RevenueFromCode(VarintGet(&after, end));
		if (pg_add_s32_overflow(orders, 1, &orders))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("order count out of range in customer_activity")));
		revenue = AddScaled(revenue, add->revenue);
	}
	pairlen = VarintPut(pair, (uint64) orders);
	pairlen += VarintPut(pair + pairlen, RevenueCode(revenue));

	size = offsetof(ActivityData, data) + bytes + (at - stream) + pairlen + (end - after);
	if (in_place && size == VARSIZE(a))
	{
		memcpy((uint8 *) at, pair, pairlen);
		return a;
	}
	r = palloc0(size);
	SET_VARSIZE(r, size);
	r->version = ACTIVITY_VERSION;
	r->unit = a->unit;
	r->first = a->first;
	r->span = (int32) span;
	r->nactive = a->nactive + (exists ? 0 : 1);
	memcpy(r->data, a->data, oldbytes);
	r->data[off >> 3] |= (uint8) (1 << (off & 7));
	w = r->data + bytes;
	memcpy(w, stream, at - stream);
	w += at - stream;
	memcpy(w, pair, pairlen);
	w += pairlen;
	memcpy(w, after, end - after);
	Assert(w + (end - after) == (uint8 *) r + size);
	return r;
}

/*
 * Transition function of activity_agg(period [, amount]): add one order. Not
 * strict, so that NULL periods and amounts are reported instead of skipped.
 * Called directly (outside an aggregate) it returns a new activity and leaves
 * its argument alone, as the other transition functions over real types do.
 */
Datum
activity_agg_trans(PG_FUNCTION_ARGS)
{
	CustomerPeriod p;
	ActivityEntry add;
	ActivityEntry buf[ACTIVITY_STACK_ENTRIES];
	ActivityEntry merged[ACTIVITY_STACK_ENTRIES + 1];
	ActivityEntry *m = merged;
	ActivityData *state;
	ActivityEntry *e;
	int			n;
	bool		inagg = AggCheckCallContext(fcinfo, NULL) != 0;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("period must not be null in activity_agg"),
				 errhint("Filter out rows without a date, or use coalesce().")));
	p = PG_GETARG_CUSTOMER_PERIOD(1);
	add.ordinal = PERIOD_GET_ORDINAL(p);
	add.orders = 1;
	add.revenue = 0;
	if (PG_NARGS() > 2)
	{
		if (PG_ARGISNULL(2))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("amount must not be null in activity_agg"),
					 errhint("Use coalesce(amount, 0), or activity_agg(period) to count orders only.")));
		add.revenue = NumericToScaled(PG_GETARG_DATUM(2), "activity_agg");
	}
	if (PG_ARGISNULL(0))
		PG_RETURN_POINTER(ActivityEncode(PERIOD_GET_UNIT(p), &add, 1));

	state = PG_GETARG_ACTIVITY(0);
	CheckActivityUnit(state->unit, PERIOD_GET_UNIT(p), "activity_agg");

	/*
	 * A period at or after the first one (the common case) is spliced in
	 * without decoding; in place when the size stays and the state is our own
	 * copy in the aggregate context (inside an aggregate, not detoasted). The
	 * result otherwise lives in the per-call context, and inside an aggregate
	 * the executor copies it to the aggregate context.
	 */
	if (add.ordinal >= state->first)
		PG_RETURN_POINTER(ActivitySplice(state, &add,
										 inagg && (Pointer) state == DatumGetPointer(PG_GETARG_DATUM(0))));

	e = ActivityDecode(state, buf, ACTIVITY_STACK_ENTRIES);
	if (state->nactive >= ACTIVITY_STACK_ENTRIES)
		m = palloc(sizeof(ActivityEntry) * (state->nactive + 1));
	n = MergeEntries(e, state->nactive, &add, 1, m);
	PG_RETURN_POINTER(ActivityEncode(state->unit, m, n));
}

PG_FUNCTION_INFO_V1(activity_merge);

/*
 * Union of two activities of one customer: active in either, orders and
 * revenue summed per period. Also activity_agg's combine function.
 */
Datum
activity_merge(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(ActivityUnion(PG_GETARG_ACTIVITY(0), PG_GETARG_ACTIVITY(1), "activity_merge"));
}

/*
 * The union of two activities (see activity_merge), palloc'd; what names the
 * caller for the error about differing kinds.
 */
ActivityData *
ActivityUnion(const ActivityData *a, const ActivityData *b, const char *what)
{
	ActivityEntry bufa[ACTIVITY_STACK_ENTRIES];
	ActivityEntry bufb[ACTIVITY_STACK_ENTRIES];
	ActivityEntry *ea;
	ActivityEntry *eb;
	ActivityEntry *m;
	int			n;

	CheckActivityUnit(a->unit, b->unit, what);
	ea = ActivityDecode(a, bufa, ACTIVITY_STACK_ENTRIES);
	eb = ActivityDecode(b, bufb, ACTIVITY_STACK_ENTRIES);
	m = palloc(sizeof(ActivityEntry) * (a->nactive + b->nactive));
	n = MergeEntries(ea, a->nactive, eb, b->nactive, m);
	return ActivityEncode(a->unit, m, n);
}

PG_FUNCTION_INFO_V1(activity_subtract);

/*
 * activity_subtract(a, part): a without the orders and revenue of part, the
 * inverse of activity_merge: activity_subtract(activity_merge(x, y), y) = x.
 * Periods left without orders are dropped; NULL when none is left. part must
 * be contained in a (each of its periods active in a with at least as many
 * orders and as much revenue). The incremental refresh uses it to recover a
 * customer's activity before a batch from the activity after it.
 */
Datum
activity_subtract(PG_FUNCTION_ARGS)
{
	ActivityData *a = PG_GETARG_ACTIVITY(0);
	ActivityData *part = PG_GETARG_ACTIVITY(1);
	ActivityEntry bufa[ACTIVITY_STACK_ENTRIES];
	ActivityEntry bufp[ACTIVITY_STACK_ENTRIES];
	ActivityEntry *ea;
	ActivityEntry *ep;
	int			i,
				j = 0,
				n = 0;

	CheckActivityUnit(a->unit, part->unit, "activity_subtract");
	ea = ActivityDecode(a, bufa, ACTIVITY_STACK_ENTRIES);
	ep = ActivityDecode(part, bufp, ACTIVITY_STACK_ENTRIES);
	/* the result is written over ea, never ahead of the entry being read */
	for (i = 0; i <= a->nactive && j < part->nactive; i++)
	{
		ActivityEntry e;

		if (i == a->nactive || ep[j].ordinal < ea[i].ordinal)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("customer_activity to subtract is not part of the other"),
					 errdetail("Period %s is active only in the activity to subtract.",
							   PeriodToCString(PERIOD_MAKE(a->unit, ep[j].ordinal)))));
		e = ea[i];
		if (ep[j].ordinal == e.ordinal)
		{
			if (ep[j].orders > e.orders || ep[j].revenue > e.revenue)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("customer_activity to subtract is not part of the other"),
						 errdetail("Period %s has more orders or revenue in the activity to subtract.",
								   PeriodToCString(PERIOD_MAKE(a->unit, e.ordinal)))));
			if (ep[j].orders == e.orders && ep[j].revenue != e.revenue)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("customer_activity to subtract is not part of the other"),
						 errdetail("Period %s would be left with revenue but no orders.",
								   PeriodToCString(PERIOD_MAKE(a->unit, e.ordinal)))));
			e.orders -= ep[j].orders;
			e.revenue -= ep[j].revenue;
			j++;
			if (e.orders == 0)
				continue;
		}
		ea[n++] = e;
	}
	/* the periods after the last one of part are kept as they are */
	for (; i < a->nactive; i++)
		ea[n++] = ea[i];
	if (n == 0)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(ActivityEncode(a->unit, ea, n));
}

PG_FUNCTION_INFO_V1(activity_first_period);

/*
 * The first period the customer was active in (the cohort).
 */
Datum
activity_first_period(PG_FUNCTION_ARGS)
{
	ActivityData *a = PG_GETARG_ACTIVITY(0);

	PG_RETURN_CUSTOMER_PERIOD(PERIOD_MAKE(a->unit, a->first));
}

PG_FUNCTION_INFO_V1(activity_last_period);

/*
 * The last period the customer was active in.
 */
Datum
activity_last_period(PG_FUNCTION_ARGS)
{
	ActivityData *a = PG_GETARG_ACTIVITY(0);

	PG_RETURN_CUSTOMER_PERIOD(PERIOD_MAKE(a->unit, ACTIVITY_LAST(a)));
}

PG_FUNCTION_INFO_V1(activity_active_periods);

/*
 * The number of periods the customer was active in.
 */
Datum
activity_active_periods(PG_FUNCTION_ARGS)
{
	ActivityData *a = PG_GETARG_ACTIVITY(0);

	PG_RETURN_INT32(a->nactive);
}

/*
 * Total orders and revenue of an activity.
 */
static void
ActivityTotals(FunctionCallInfo fcinfo, int64 *orders, int64 *revenue)
{
	ActivityData *a = PG_GETARG_ACTIVITY(0);
	ActivityEntry buf[ACTIVITY_STACK_ENTRIES];
	ActivityEntry *e = ActivityDecode(a, buf, ACTIVITY_STACK_ENTRIES);
	int			i;

	*orders = 0;
	*revenue = 0;
	for (i = 0; i < a->nactive; i++)
	{
		/* at most ACTIVITY_MAX_SPAN int32 counts: cannot overflow, checked all the same */
		if (pg_add_s64_overflow(*orders, e[i].orders, orders))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("order count out of range in customer_activity")));
		*revenue = AddScaled(*revenue, e[i].revenue);
	}
}

PG_FUNCTION_INFO_V1(activity_orders);

/*
 * Total orders over all periods.
 */
Datum
activity_orders(PG_FUNCTION_ARGS)
{
	int64		orders,
				revenue;

	ActivityTotals(fcinfo, &orders, &revenue);
	PG_RETURN_INT64(orders);
}

PG_FUNCTION_INFO_V1(activity_revenue);

/*
 * Total revenue over all periods, exact.
 */
Datum
activity_revenue(PG_FUNCTION_ARGS)
{
	int64		orders,
				revenue;

	ActivityTotals(fcinfo, &orders, &revenue);
	PG_RETURN_DATUM(ScaledToNumeric(revenue));
}

PG_FUNCTION_INFO_V1(activity_periods);

/*
 * Set-returning: one row (period, orders, revenue) per active period.
 */
Datum
activity_periods(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ActivityData *a = PG_GETARG_ACTIVITY(0);
	ActivityEntry *e;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	e = ActivityDecode(a, NULL, 0);
	for (i = 0; i < a->nactive; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CustomerPeriodGetDatum(PERIOD_MAKE(a->unit, e[i].ordinal));
		values[1] = Int32GetDatum(e[i].orders);
		values[2] = ScaledToNumeric(e[i].revenue);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
