/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Every difference between the PostgreSQL versions pg_retention builds on, in one place.
 *
 * pg_retention builds on PostgreSQL 15 and later (tested on 15 and 18; 17 and 19 are wired
 * into CI). The wrappers below keep call sites identical on versions whose internal APIs
 * changed: each is named for what it does and tests PG_VERSION_NUM against the release
 * that changed the API, so that every version between two tested ones (16, say) takes the
 * branch of the API it has. No other file tests PG_VERSION_NUM.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_RETENTION_COMPAT_H
#define PG_RETENTION_COMPAT_H

#include "utils/acl.h"
#include "utils/datetime.h"
#include "utils/rangetypes.h"

#if PG_VERSION_NUM < 150000
#error "pg_retention requires PostgreSQL 15 or later"
#endif

#if SIZEOF_DATUM < 8
#error "pg_retention needs 64-bit Datums: customer_period is an 8-byte pass-by-value type"
#endif

/* DecodeTimezoneAbbrev gained an output type argument and error details in PostgreSQL 16. */
#if PG_VERSION_NUM >= 160000
static inline int
CompatDecodeTimezoneAbbrev(char *lowtoken, int *offset, pg_tz **tz)
{
	int			ftype;
	DateTimeErrorExtra extra;

	if (DecodeTimezoneAbbrev(0, lowtoken, &ftype, offset, tz, &extra) != 0)
		return UNKNOWN_FIELD;
	return ftype;
}
#else
#define CompatDecodeTimezoneAbbrev(lowtoken, offset, tz) \
	DecodeTimezoneAbbrev(0, (lowtoken), (offset), (tz))
#endif

/* make_range gained a soft-error context in PostgreSQL 16. */
#if PG_VERSION_NUM >= 160000
#define CompatMakeRange(typcache, lower, upper, empty) \
	make_range((typcache), (lower), (upper), (empty), NULL)
#else
#define CompatMakeRange(typcache, lower, upper, empty) \
	make_range((typcache), (lower), (upper), (empty))
#endif

/*
 * May member become role with SET ROLE? PostgreSQL 16 made that a grant option of its own
 * (GRANT ... WITH SET); before, every member could. Superusers may become any role.
 */
#if PG_VERSION_NUM >= 160000
#define CompatMemberCanSetRole(member, role) member_can_set_role((member), (role))
#else
#define CompatMemberCanSetRole(member, role) is_member_of_role((member), (role))
#endif

/*
 * Declares a function that never returns, written before the declaration. PostgreSQL 18
 * replaced the postfix pg_attribute_noreturn() by the prefix pg_noreturn (C11 _Noreturn);
 * the older attribute also works as a prefix with every compiler PostgreSQL supports.
 */
#if PG_VERSION_NUM >= 180000
#define CompatNoReturn pg_noreturn
#else
#define CompatNoReturn pg_attribute_noreturn()
#endif

#endif							/* PG_RETENTION_COMPAT_H */
