/*-------------------------------------------------------------------------
 *
 * aggstate.h
 *	  What the transition and combine functions of the varlena aggregate states share
 *	  (fit_state, holdout_state, tracking_state, rfm_quantile_state): reading a state
 *	  argument to modify, and the NULL cases of a combine function.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_RETENTION_AGGSTATE_H
#define PG_RETENTION_AGGSTATE_H

#include "fmgr.h"

/*
 * ModifiableState: the state in argument argno, to be modified: in place when called as
 * an aggregate (the aggregate owns its state), else a copy (a direct call must not change
 * its argument); NULL when the argument is NULL.
 */
static inline struct varlena *
ModifiableState(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return NULL;
	if (AggCheckCallContext(fcinfo, NULL))
		return PG_DETOAST_DATUM(PG_GETARG_DATUM(argno));
	return PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(argno));
}

/*
 * CombineNulls: the cases of a combine function with a NULL argument: returns true with
 * *result the other argument (a copy of the second, which the caller does not own), or
 * NULL (fcinfo->isnull) when both are NULL; false when neither is NULL.
 */
static inline bool
CombineNulls(FunctionCallInfo fcinfo, Datum *result)
{
	*result = (Datum) 0;
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			fcinfo->isnull = true;
		else
			*result = PG_GETARG_DATUM(0);
		return true;
	}
	if (PG_ARGISNULL(0))
	{
		*result = PointerGetDatum(PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(1)));
		return true;
	}
	return false;
}

#endif							/* PG_RETENTION_AGGSTATE_H */
