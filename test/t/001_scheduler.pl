# The pg_retention scheduler's life: it starts when preloaded, idles until the extension is
# installed, runs scheduled jobs and records them, records a failing job and goes on, follows
# a configuration reload, survives a SIGKILL in the middle of a refresh (the previous result
# stays, the orphaned run is marked failed, the next run catches up), records a cancelled run,
# does nothing on a standby, and shuts down cleanly.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('primary');
$node->init(allows_streaming => 1);
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'pg_retention'
retention.database = 'postgres'
retention.naptime = 1
restart_after_crash = on
log_min_messages = log
});
$node->start;

my $worker_q =
  q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention scheduler'};
ok($node->poll_query_until('postgres', "SELECT ($worker_q) = 1"), 'the scheduler starts');
ok($node->log_contains('pg_retention scheduler started in database "postgres"'),
	'its start is logged');

# no extension yet: the worker idles without errors
sleep 2;
ok(!$node->log_contains('ERROR'), 'no errors while the extension is not installed');

$node->safe_psql(
	'postgres', q{
CREATE EXTENSION pg_retention;
CREATE TABLE orders (customer_id int, ordered_at timestamptz, amount numeric);
INSERT INTO orders VALUES (1, '2026-01-05', 10), (2, '2026-02-05', 20), (1, '2026-02-10', 5);
SELECT retention.create_cohort_job('monthly', 'orders', 'customer_id', 'ordered_at', 'amount',
       'month', 'monthly_activity', 'monthly_cohorts', '1 second');
});

# a scheduled run is observed and recorded
ok( $node->poll_query_until(
		'postgres',
		q{SELECT count(*) > 0 FROM retention.job_runs WHERE trigger = 'schedule' AND status = 'succeeded'}
	),
	'a scheduled run succeeds');
is($node->safe_psql('postgres', 'SELECT count(*) FROM monthly_activity'),
	'2', 'the scheduled run filled the activity table');
$node->safe_psql('postgres', q{INSERT INTO orders VALUES (3, '2026-03-01', 7)});
ok( $node->poll_query_until(
		'postgres', 'SELECT count(*) = 3 FROM monthly_activity'),
	'new rows are picked up by a later run');

# a failing job is recorded with its error, backs off, and the scheduler goes on
$node->safe_psql(
	'postgres', q{
CREATE TABLE broken_src (customer_id int, ordered_at timestamptz, amount numeric);
SELECT retention.create_cohort_job('broken', 'broken_src', 'customer_id', 'ordered_at', 'amount',
       'month', 'broken_activity', 'broken_cohorts', '1 second');
ALTER TABLE broken_src RENAME COLUMN amount TO total;
});
ok( $node->poll_query_until(
		'postgres',
		q{SELECT count(*) > 0 FROM retention.job_runs r JOIN retention.jobs j USING (job_id)
		  WHERE j.job_name = 'broken' AND r.status = 'failed' AND r.message LIKE '%does not exist%'}),
	'the failing job is recorded as failed with its error');
my $backoff = $node->safe_psql('postgres',
	q{SELECT consecutive_failures >= 1 AND next_run > now() + interval '5 seconds' FROM retention.jobs WHERE job_name = 'broken'});
is($backoff, 't', 'the failing job is retried after a back-off, not every second');
my $before = $node->safe_psql('postgres',
	q{SELECT max(run_id) FROM retention.job_runs r JOIN retention.jobs j USING (job_id) WHERE j.job_name = 'monthly'});
ok( $node->poll_query_until(
		'postgres',
		qq{SELECT count(*) > 0 FROM retention.job_runs r JOIN retention.jobs j USING (job_id)
		   WHERE j.job_name = 'monthly' AND r.run_id > $before AND r.status = 'succeeded'}),
	'the other job keeps running');
$node->safe_psql('postgres', q{SELECT retention.drop_job('broken', true)});

# a job runs as its owner; when that role is gone the run fails (an error outside the job's
# own code, recorded in a separate transaction) and the scheduler goes on
$node->safe_psql(
	'postgres', q{
CREATE ROLE regress_gone;
GRANT CREATE ON SCHEMA public TO regress_gone;
GRANT SELECT ON orders TO regress_gone;
SET ROLE regress_gone;
SELECT retention.create_cohort_job('orphan', 'orders', 'customer_id', 'ordered_at', 'amount',
       'month', 'orphan_activity', 'orphan_cohorts', '1 second');
RESET ROLE;
});
ok( $node->poll_query_until(
		'postgres',
		q{SELECT count(*) > 0 FROM retention.job_runs r JOIN retention.jobs j USING (job_id)
		  WHERE j.job_name = 'orphan' AND r.status = 'succeeded'}),
	'a job of an ordinary role runs');
$node->safe_psql(
	'postgres', q{
SELECT retention.pause_job('orphan');
REASSIGN OWNED BY regress_gone TO postgres;
DROP OWNED BY regress_gone;
DROP ROLE regress_gone;
UPDATE retention.jobs SET enabled = true, next_run = now() WHERE job_name = 'orphan';
});
ok( $node->poll_query_until(
		'postgres',
		q{SELECT count(*) > 0 FROM retention.job_runs r JOIN retention.jobs j USING (job_id)
		  WHERE j.job_name = 'orphan' AND r.status = 'failed' AND r.sqlstate = '42704'
		  AND r.message LIKE 'the role that owns job "orphan" no longer exists%'}),
	'a job whose owner was dropped is recorded as failed');
$node->safe_psql('postgres', q{DELETE FROM retention.jobs WHERE job_name = 'orphan'});

# reload: retention.enabled = off stops scheduled runs, on starts them again
$node->safe_psql('postgres', 'ALTER SYSTEM SET retention.enabled = off');
$node->reload;
sleep 3;    # let a run in progress finish
my $frozen = $node->safe_psql('postgres', 'SELECT count(*) FROM retention.job_runs');
sleep 3;
is($node->safe_psql('postgres', 'SELECT count(*) FROM retention.job_runs'),
	$frozen, 'no runs while retention.enabled is off');
$node->safe_psql('postgres', 'ALTER SYSTEM SET retention.enabled = on');
$node->reload;
ok( $node->poll_query_until(
		'postgres', "SELECT count(*) > $frozen FROM retention.job_runs"),
	'runs resume after the reload');

# SIGKILL in the middle of a refresh: a job whose source is a view that sleeps as long as
# a setting table says
$node->safe_psql(
	'postgres', q{
SELECT retention.pause_job('monthly');
CREATE TABLE nap (seconds float8);
INSERT INTO nap VALUES (0);
CREATE VIEW slow_orders AS
  SELECT o.* FROM orders o, (SELECT pg_sleep(seconds) FROM nap) z;
SELECT retention.create_cohort_job('slow', 'slow_orders', 'customer_id', 'ordered_at', 'amount',
       'month', 'slow_activity', 'slow_cohorts', '1 second');
});
ok( $node->poll_query_until(
		'postgres',
		q{SELECT count(*) > 0 FROM retention.job_runs r JOIN retention.jobs j USING (job_id)
		  WHERE j.job_name = 'slow' AND r.status = 'succeeded'}),
	'the slow job ran once');
my $good = $node->safe_psql('postgres',
	'SELECT string_agg(format($$%s/%s/%s/%s$$, cohort, age, customers, revenue), $$ $$ ORDER BY cohort, age) FROM slow_cohorts');
$node->safe_psql('postgres',
	q{UPDATE nap SET seconds = 600; INSERT INTO orders VALUES (4, '2026-04-01', 100), (1, '2026-04-02', 1)});
ok( $node->poll_query_until(
		'postgres',
		q{SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type = 'pg_retention scheduler'
		  AND query LIKE 'pg_retention: running job slow %' AND wait_event = 'PgSleep'}),
	'the slow job is in the middle of a refresh');
my $orphan = $node->safe_psql('postgres',
	q{SELECT r.run_id FROM retention.job_runs r JOIN retention.jobs j USING (job_id) WHERE j.job_name = 'slow' AND r.status = 'running'});
ok($orphan ne '', 'the run in progress is visible as running');
my $pid = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_retention scheduler'});
my $log_offset = -s $node->logfile;
kill 'KILL', $pid;
ok( $node->poll_query_until(
		'postgres',
		qq{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_retention scheduler' AND pid <> $pid}),
	'after the crash the scheduler is restarted');
ok($node->log_contains('terminated by signal 9', $log_offset), 'the crash was a SIGKILL');
is( $node->safe_psql('postgres',
		'SELECT string_agg(format($$%s/%s/%s/%s$$, cohort, age, customers, revenue), $$ $$ ORDER BY cohort, age) FROM slow_cohorts'),
	$good,
	'the cohort table holds the previous result');
ok( $node->poll_query_until(
		'postgres',
		qq{SELECT status = 'failed' AND message LIKE 'the scheduler stopped during the run%' FROM retention.job_runs WHERE run_id = $orphan}),
	'the orphaned run is marked failed at start-up');

# the restarted scheduler runs the slow job again: cancel that run, which is recorded too,
# then let the next run catch up
ok( $node->poll_query_until(
		'postgres',
		q{SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type = 'pg_retention scheduler'
		  AND query LIKE 'pg_retention: running job slow %' AND wait_event = 'PgSleep'}),
	'the slow job runs again after the restart');
$node->safe_psql('postgres', 'UPDATE nap SET seconds = 0');
$node->safe_psql('postgres',
	q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE backend_type = 'pg_retention scheduler'});
ok( $node->poll_query_until(
		'postgres',
		q{SELECT count(*) > 0 FROM retention.job_runs WHERE message LIKE 'canceling statement due to user request%' AND status = 'failed' AND sqlstate = '57014'}),
	'a cancelled run is recorded as failed');
$node->safe_psql('postgres',
	q{UPDATE retention.jobs SET next_run = now() WHERE job_name = 'slow'});
ok( $node->poll_query_until(
		'postgres',
		qq{SELECT count(*) > 0 FROM retention.job_runs r JOIN retention.jobs j USING (job_id)
		   WHERE j.job_name = 'slow' AND r.status = 'succeeded' AND r.run_id > $orphan}),
	'the next run succeeds');
is( $node->safe_psql('postgres',
		q{SELECT count(*) FROM (
		    (SELECT t.* FROM retention.cohort_table((SELECT retention.cohort_agg(a) FROM
		       (SELECT retention.activity_agg(retention.customer_period(ordered_at, 'month', 'UTC'), amount) a
		        FROM orders GROUP BY customer_id) x)) t EXCEPT SELECT * FROM slow_cohorts)
		    UNION ALL
		    (SELECT * FROM slow_cohorts EXCEPT SELECT t.* FROM retention.cohort_table((SELECT retention.cohort_agg(a) FROM
		       (SELECT retention.activity_agg(retention.customer_period(ordered_at, 'month', 'UTC'), amount) a
		        FROM orders GROUP BY customer_id) x)) t)) d}),
	'0',
	'it caught up with the rows added before the crash');

# pg_dump keeps the jobs and their runs (configuration tables of the extension)
my $dump;
$node->command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '-f', "$PostgreSQL::Test::Utils::tmp_check/dump.sql" ],
	'pg_dump runs');
$dump = slurp_file("$PostgreSQL::Test::Utils::tmp_check/dump.sql");
like($dump, qr/^COPY retention\.jobs .*^\d+\tmonthly\tcohort_refresh\t/ms, 'the dump holds the jobs');
like($dump, qr/COPY retention\.job_runs /, 'the dump holds the runs');

# a standby runs no scheduler
$node->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'base', has_streaming => 1);
$standby->start;
$node->wait_for_catchup($standby);
sleep 2;
is($standby->safe_psql('postgres', $worker_q), '0', 'no scheduler on a standby');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM retention.jobs'),
	'2', 'the standby has the jobs');
$standby->stop;

# clean shutdown
$log_offset = -s $node->logfile;
$node->stop('fast');
ok(!$node->log_contains('terminated by signal', $log_offset), 'the scheduler stops cleanly');
ok($node->log_contains('database system is shut down', $log_offset), 'the server shut down');

done_testing();
