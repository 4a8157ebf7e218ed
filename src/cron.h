/*-------------------------------------------------------------------------
 *
 * cron.h
 *	  Job schedules: a fixed interval ('15 minutes') or a five-field cron
 *	  expression ('*\/5 * * * *'), and the next time a schedule fires in a
 *	  given time zone.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_RETENTION_CRON_H
#define PG_RETENTION_CRON_H

#include "datatype/timestamp.h"
#include "pgtime.h"

typedef struct RetentionSchedule
{
	bool		is_interval;	/* true: fixed interval, false: cron fields */
	Interval	interval;		/* the interval, when is_interval */
	uint64		minutes;		/* bit m set: fires at minute m (0-59) */
	uint32		hours;			/* bit h set: fires at hour h (0-23) */
	uint32		mdays;			/* bit d set: fires on day of month d (1-31) */
	uint32		months;			/* bit m set: fires in month m (1-12) */
	uint32		wdays;			/* bit w set: fires on weekday w (0 = Sunday) */
	bool		mday_star;		/* day-of-month field was '*' */
	bool		wday_star;		/* day-of-week field was '*' */
} RetentionSchedule;

extern void ScheduleParse(const char *text, RetentionSchedule *sched);
extern pg_tz *ScheduleTimeZone(const char *name);
extern TimestampTz ScheduleNext(const RetentionSchedule *sched, pg_tz *tz, TimestampTz after);

#endif							/* PG_RETENTION_CRON_H */
