/*-------------------------------------------------------------------------
 *
 * pg_unreachable.c
 *	  Backend functions period.c links against that the fuzzed paths (text input and
 *	  output, kind names, calendar arithmetic) never call. Each aborts, so an input
 *	  that reaches one is reported as a crash. Kept apart from pg_stubs.c because the
 *	  definitions do not match the backend headers' prototypes.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

/* not reachable from the text input and output paths: a call is a finding */
#define UNREACHABLE(name) void name(void); void name(void) { abort(); }
UNREACHABLE(DecodeTimezoneAbbrev)
UNREACHABLE(DirectFunctionCall1Coll)
UNREACHABLE(DirectFunctionCall2Coll)
UNREACHABLE(cstring_to_text)
UNREACHABLE(date_out)
UNREACHABLE(end_MultiFuncCall)
UNREACHABLE(enlargeStringInfo)
UNREACHABLE(get_fn_expr_arg_stable)
UNREACHABLE(hash_bytes_uint32)
UNREACHABLE(hash_bytes_uint32_extended)
UNREACHABLE(init_MultiFuncCall)
UNREACHABLE(lookup_type_cache)
UNREACHABLE(make_range)
UNREACHABLE(per_MultiFuncCall)
UNREACHABLE(pg_detoast_datum_copy)
UNREACHABLE(pg_detoast_datum_packed)
UNREACHABLE(pg_tzset)
UNREACHABLE(pq_begintypsend)
UNREACHABLE(pq_endtypsend)
UNREACHABLE(pq_getmsgint64)
UNREACHABLE(ssup_datum_unsigned_cmp)
UNREACHABLE(text_to_cstring)
UNREACHABLE(timestamp2tm)
UNREACHABLE(timestamptz_zone)
UNREACHABLE(pg_get_timezone_offset)
UNREACHABLE(pg_next_dst_boundary)
UNREACHABLE(time_t_to_timestamptz)
