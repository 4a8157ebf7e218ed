/*-------------------------------------------------------------------------
 *
 * svg.h
 *	  What the SVG charts share (heatmap.c draws cohorts, model_tracking.c the tracking
 *	  series): escaping text for XML.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_RETENTION_SVG_H
#define PG_RETENTION_SVG_H

#include "lib/stringinfo.h"

extern void AppendXmlEscaped(StringInfo buf, const char *s);

#endif							/* PG_RETENTION_SVG_H */
