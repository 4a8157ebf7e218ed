/*-------------------------------------------------------------------------
 *
 * cron.c
 *	  Job schedules: parsing of interval and cron-style schedules, and the
 *	  next time a schedule fires, evaluated in the job's time zone.
 *
 * A schedule is either an interval ('15 minutes', '1 day'; the next run is
 * that long after the given time, calendar parts added in the job's time
 * zone) or five cron fields: minute hour day-of-month month day-of-week, each
 * '*', a number, a range 'a-b', a list 'a,b,c', with an optional step '/n';
 * months and weekdays also by English three-letter names; weekday 0 or 7 is
 * Sunday. As in Vixie cron, when both the day-of-month and the day-of-week
 * fields are restricted a day matches if either does. The macros @hourly,
 * @daily (@midnight), @weekly, @monthly and @yearly (@annually) are accepted.
 *
 * SQL: retention.next_run_time(schedule, after, timezone) and
 * retention.schedule_is_cron(schedule).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "common/int.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "cron.h"

/* how far ahead ScheduleNext looks before deciding that a schedule never fires */
#define SCHEDULE_MAX_YEARS 8

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const wday_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

/*
 * Report a malformed cron schedule.
 */
static void
BadCron(const char *text, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid cron schedule \"%s\"", text),
			 errdetail("%s", detail),
			 errhint("Use five fields \"minute hour day-of-month month day-of-week\", e.g. '*/15 * * * *', or an interval such as '15 minutes'.")));
}

/*
 * Parse one value of a cron field at *p: a number, or a three-letter name
 * when names is given (its index plus name_base). Advances *p.
 */
static int
CronValue(const char **p, const char *const *names, int name_base,
		  const char *text, const char *field)
{
	const char *s = *p;
	int			v = 0;

	if (isdigit((unsigned char) *s))
	{
		while (isdigit((unsigned char) *s))
		{
			v = v * 10 + (*s - '0');
			if (v > 1000)
				BadCron(text, psprintf("The %s field holds a number out of range.", field));
			s++;
		}
		*p = s;
		return v;
	}
	if (names != NULL)
	{
		int			i;

		for (i = 0; names[i] != NULL; i++)
		{
			if (pg_strncasecmp(s, names[i], 3) == 0)
			{
				*p = s + 3;
				return i + name_base;
			}
		}
	}
	BadCron(text, psprintf("The %s field has an unexpected character \"%c\".", field,
						   *s ? *s : ' '));
	return 0;					/* keep the compiler quiet */
}

/*
 * Parse one cron field (a NUL-terminated token) into a bit mask over
 * lo..hi. Sets *star when the field is a plain '*'.
 */
static uint64
CronField(const char *tok, int lo, int hi, const char *const *names, int name_base,
		  const char *text, const char *field, bool *star)
{
	const char *p = tok;
	uint64		mask = 0;

	*star = (strcmp(tok, "*") == 0);
	for (;;)
	{
		int			from,
					to,
					step = 1,
					v;

		if (*p == '*')
		{
			from = lo;
			to = hi;
			p++;
		}
		else
		{
			from = CronValue(&p, names, name_base, text, field);
			to = from;
			if (*p == '-')
			{
				p++;
				to = CronValue(&p, names, name_base, text, field);
			}
			else if (*p == '/')
				to = hi;		/* "a/n": from a to the end, every n */
		}
		if (*p == '/')
		{
			p++;
			if (!isdigit((unsigned char) *p))
				BadCron(text, psprintf("The %s field has a step that is not a number.", field));
			step = CronValue(&p, NULL, 0, text, field);
			if (step < 1)
				BadCron(text, psprintf("The %s field has a step of zero.", field));
		}
		if (from < lo || to > hi)
			BadCron(text, psprintf("The %s field allows values %d to %d.", field, lo, hi));
		if (from > to)
			BadCron(text, psprintf("The %s field has a range whose start is after its end.", field));
		for (v = from; v <= to; v += step)
			mask |= UINT64CONST(1) << v;
		if (*p == '\0')
			break;
		if (*p != ',')
			BadCron(text, psprintf("The %s field has an unexpected character \"%c\".", field, *p));
		p++;
	}
	return mask;
}

/*
 * Parse a schedule text into *sched: a cron expression (five fields or a
 * macro) or else an interval, which must be positive.
 */
void
ScheduleParse(const char *text, RetentionSchedule *sched)
{
	char	   *copy;
	char	   *fields[6];
	int			n = 0;
	char	   *tok;
	char	   *save;
	bool		cronlike = true;
	const char *c;
	bool		star;

	memset(sched, 0, sizeof(*sched));
	while (isspace((unsigned char) *text))
		text++;
	if (*text == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("schedule must not be empty"),
				 errhint("Use an interval such as '15 minutes' or a cron expression such as '*/15 * * * *'.")));

	if (text[0] == '@')
	{
		static const char *const macros[][2] = {
			{"@hourly", "0 * * * *"}, {"@daily", "0 0 * * *"}, {"@midnight", "0 0 * * *"},
			{"@weekly", "0 0 * * 0"}, {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
			{"@annually", "0 0 1 1 *"}
		};
		int			i;

		for (i = 0; i < (int) lengthof(macros); i++)
		{
			if (pg_strcasecmp(text, macros[i][0]) == 0)
			{
				ScheduleParse(macros[i][1], sched);
				return;
			}
		}
		BadCron(text, "Known macros are @hourly, @daily, @midnight, @weekly, @monthly, @yearly and @annually.");
	}

	/* A cron expression has only digits, names and * , - / between blanks. */
	for (c = text; *c; c++)
	{
		if (!(isdigit((unsigned char) *c) || isspace((unsigned char) *c) ||
			  strchr("*,-/", *c) != NULL || isalpha((unsigned char) *c)))
			cronlike = false;
	}
	copy = pstrdup(text);
	for (tok = strtok_r(copy, " \t\n\r", &save); tok != NULL && n < 6;
		 tok = strtok_r(NULL, " \t\n\r", &save))
		fields[n++] = tok;
	if (cronlike && n >= 1 && (strchr(fields[0], '*') != NULL || n == 5))
	{
		/* starts like a cron expression: it must be one */
		int			i;

		if (n != 5)
			BadCron(text, psprintf("A cron expression has 5 fields, this one has %d.", n == 6 ? 6 : n));
		for (i = 0; i < 5; i++)
		{
			const char *f = fields[i];

			for (; *f; f++)
				if (isalpha((unsigned char) *f) && i != 3 && i != 4)
					BadCron(text, "Only the month and day-of-week fields accept names.");
		}
		sched->minutes = CronField(fields[0], 0, 59, NULL, 0, text, "minute", &star);
		sched->hours = (uint32) CronField(fields[1], 0, 23, NULL, 0, text, "hour", &star);
		sched->mdays = (uint32) CronField(fields[2], 1, 31, NULL, 0, text, "day-of-month",
										  &sched->mday_star);
		sched->months = (uint32) CronField(fields[3], 1, 12, month_names, 1, text, "month", &star);
		sched->wdays = (uint32) CronField(fields[4], 0, 7, wday_names, 0, text, "day-of-week",
										  &sched->wday_star);
		if (sched->wdays & (1 << 7))
			sched->wdays = (sched->wdays | 1) & 0x7F;	/* 7 is Sunday too */
		sched->is_interval = false;
		pfree(copy);
		return;
	}
	pfree(copy);

	/* otherwise an interval */
	{
		Interval   *iv = DatumGetIntervalP(DirectFunctionCall3(interval_in,
															   CStringGetDatum(text),
															   ObjectIdGetDatum(InvalidOid),
															   Int32GetDatum(-1)));

		if (iv->month < 0 || iv->day < 0 || iv->time < 0 ||
			(iv->month == 0 && iv->day == 0 && iv->time < USECS_PER_SEC))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("schedule interval must be at least 1 second: \"%s\"", text),
					 errdetail("Every part of the interval must be zero or positive.")));
		sched->is_interval = true;
		sched->interval = *iv;
	}
}

/*
 * Look up a time zone by name (as in SET TIME ZONE), or report it unknown.
 */
pg_tz *
ScheduleTimeZone(const char *name)
{
	pg_tz	   *tz = pg_tzset(name);

	if (tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" not recognized", name),
				 errhint("Use a name from pg_timezone_names, such as 'UTC' or 'Europe/Paris'.")));
	return tz;
}

/*
 * Local wall-clock fields tm (seconds zero) in time zone tz to a timestamptz.
 */
static TimestampTz
LocalToTimestamp(struct pg_tm *tm, pg_tz *tz)
{
	int			offset = DetermineTimeZoneOffset(tm, tz);
	TimestampTz result;

	if (tm2timestamp(tm, 0, &offset, &result) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return result;
}

/*
 * Move tm to the start of the next day.
 */
static void
NextDay(struct pg_tm *tm)
{
	int			j = date2j(tm->tm_year, tm->tm_mon, tm->tm_mday) + 1;

	j2date(j, &tm->tm_year, &tm->tm_mon, &tm->tm_mday);
	tm->tm_hour = 0;
	tm->tm_min = 0;
}

/*
 * Does the cron schedule fire on the local date in tm?
 */
static bool
CronDayMatches(const RetentionSchedule *s, struct pg_tm *tm)
{
	bool		mday = (s->mdays & (((uint32) 1) << tm->tm_mday)) != 0;
	bool		wday = (s->wdays & (((uint32) 1) << j2day(date2j(tm->tm_year, tm->tm_mon,
																	 tm->tm_mday)))) != 0;

	if (s->mday_star || s->wday_star)
		return mday && wday;
	return mday || wday;
}

/*
 * The first time strictly after "after" at which the schedule fires, in time
 * zone tz. Interval schedules: after + interval (months and days added on the
 * local calendar). Cron schedules: the first local minute after "after" that
 * matches every field; local times skipped by a daylight-saving change do not
 * fire, and repeated local times fire once.
 */
TimestampTz
ScheduleNext(const RetentionSchedule *s, pg_tz *tz, TimestampTz after)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			offset;
	int			limit_year;
	TimestampTz t;

	if (TIMESTAMP_NOT_FINITE(after))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("schedule start time must be finite")));
	if (s->is_interval)
	{
		t = after;
		if (s->interval.month != 0 || s->interval.day != 0)
		{
			if (timestamp2tm(after, &offset, &tm, &fsec, NULL, tz) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
						 errmsg("timestamp out of range")));
			tm.tm_mon += s->interval.month;
			tm.tm_year += (tm.tm_mon - 1) / MONTHS_PER_YEAR;
			tm.tm_mon = (tm.tm_mon - 1) % MONTHS_PER_YEAR + 1;
			if (tm.tm_mday > day_tab[isleap(tm.tm_year)][tm.tm_mon - 1])
				tm.tm_mday = day_tab[isleap(tm.tm_year)][tm.tm_mon - 1];
			j2date(date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) + s->interval.day,
				   &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
			offset = DetermineTimeZoneOffset(&tm, tz);
			if (tm2timestamp(&tm, fsec, &offset, &t) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
						 errmsg("timestamp out of range")));
		}
		if (pg_add_s64_overflow(t, s->interval.time, &t) || !IS_VALID_TIMESTAMP(t))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("timestamp out of range")));
		return t;
	}

	/* the next whole minute after "after", as local fields */
	t = after - (after % USECS_PER_MINUTE + (after % USECS_PER_MINUTE < 0 ? USECS_PER_MINUTE : 0))
		+ USECS_PER_MINUTE;
	if (timestamp2tm(t, &offset, &tm, &fsec, NULL, tz) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	tm.tm_sec = 0;
	limit_year = tm.tm_year + SCHEDULE_MAX_YEARS;
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (tm.tm_year > limit_year)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cron schedule never fires"),
					 errdetail("No date in the next %d years matches its day and month fields.",
							   SCHEDULE_MAX_YEARS)));
		if (!(s->months & (((uint32) 1) << tm.tm_mon)))
		{
			tm.tm_mday = 1;
			tm.tm_hour = 0;
			tm.tm_min = 0;
			if (++tm.tm_mon > 12)
			{
				tm.tm_mon = 1;
				tm.tm_year++;
			}
			continue;
		}
		if (!CronDayMatches(s, &tm))
		{
			NextDay(&tm);
			continue;
		}
		if (!(s->hours & (((uint32) 1) << tm.tm_hour)))
		{
			tm.tm_min = 0;
			if (++tm.tm_hour > 23)
				NextDay(&tm);
			continue;
		}
		if (!(s->minutes & (UINT64CONST(1) << tm.tm_min)))
		{
			if (++tm.tm_min > 59)
			{
				tm.tm_min = 0;
				if (++tm.tm_hour > 23)
					NextDay(&tm);
			}
			continue;
		}
		t = LocalToTimestamp(&tm, tz);
		if (t > after)
		{
			/* a local time inside a spring-forward gap does not exist: skip it */
			struct pg_tm back;
			int			boff;

			if (timestamp2tm(t, &boff, &back, &fsec, NULL, tz) == 0 &&
				back.tm_hour == tm.tm_hour && back.tm_min == tm.tm_min)
				return t;
		}
		if (++tm.tm_min > 59)
		{
			tm.tm_min = 0;
			if (++tm.tm_hour > 23)
				NextDay(&tm);
		}
	}
}

PG_FUNCTION_INFO_V1(next_run_time);

/*
 * next_run_time(schedule text, after timestamptz, timezone text): the first
 * time after "after" at which the schedule fires in that time zone.
 */
Datum
next_run_time(PG_FUNCTION_ARGS)
{
	char	   *spec = text_to_cstring(PG_GETARG_TEXT_PP(0));
	TimestampTz after = PG_GETARG_TIMESTAMPTZ(1);
	char	   *tzname = text_to_cstring(PG_GETARG_TEXT_PP(2));
	RetentionSchedule sched;
	pg_tz	   *tz;

	ScheduleParse(spec, &sched);
	tz = ScheduleTimeZone(tzname);
	PG_RETURN_TIMESTAMPTZ(ScheduleNext(&sched, tz, after));
}

PG_FUNCTION_INFO_V1(schedule_is_cron);

/*
 * schedule_is_cron(schedule text): true for a cron expression, false for an
 * interval; an error for an invalid schedule.
 */
Datum
schedule_is_cron(PG_FUNCTION_ARGS)
{
	RetentionSchedule sched;

	ScheduleParse(text_to_cstring(PG_GETARG_TEXT_PP(0)), &sched);
	PG_RETURN_BOOL(!sched.is_interval);
}
