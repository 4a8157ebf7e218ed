# The scheduler runs each job as its owner, restricted, in a GUC nest level of its own: a
# hostile owner's trigger can neither become superuser through a scheduled run nor leave
# settings behind that stop the other roles' jobs (default_transaction_read_only,
# statement_timeout); database defaults do not stop the scheduler either; a claim that fails
# is retried after a back-off, not in a loop (issue 11, findings 1 and 4).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('primary');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'pg_retention'
retention.database = 'postgres'
retention.naptime = 1
log_min_messages = log
});
$node->start;

# the test's own sessions keep ordinary settings whatever the database defaults say
$ENV{PGOPTIONS} = '-c statement_timeout=0 -c default_transaction_read_only=off';

$node->safe_psql(
	'postgres', q{
CREATE EXTENSION pg_retention;
CREATE ROLE regress_alice;
CREATE ROLE regress_bob;
GRANT CREATE ON SCHEMA public TO regress_alice, regress_bob;

SET ROLE regress_alice;
CREATE TABLE alice_orders (customer_id int, ordered_at timestamptz, amount numeric);
INSERT INTO alice_orders VALUES (1, '2026-01-05', 10);
SELECT retention.create_cohort_job('alice_job', 'alice_orders', 'customer_id', 'ordered_at', 'amount',
       'month', 'alice_activity', 'alice_cohorts', '1 second');
RESET ROLE;

-- bob's job: every run rewrites his activity table, whose trigger tries to take the
-- scheduler's superuser identity back, then sets session-wide settings that would stop
-- every later transaction of the scheduler
SET ROLE regress_bob;
CREATE TABLE bob_orders (customer_id int, ordered_at timestamptz, amount numeric);
INSERT INTO bob_orders VALUES (1, '2026-01-05', 10);
CREATE TABLE bob_log (n serial, what text, outcome text);
CREATE FUNCTION bob_attack() RETURNS trigger LANGUAGE plpgsql SET search_path = public AS $$
BEGIN
	BEGIN
		RESET ROLE;
		ALTER ROLE regress_bob SUPERUSER;
		INSERT INTO bob_log (what, outcome) VALUES ('escalate', 'became superuser');
	EXCEPTION WHEN OTHERS THEN
		INSERT INTO bob_log (what, outcome) VALUES ('escalate', format('as %s: %s', current_user, SQLERRM));
	END;
	PERFORM set_config('default_transaction_read_only', 'on', false),
		set_config('statement_timeout', '1', false), set_config('lock_timeout', '1', false);
	INSERT INTO bob_log (what, outcome) VALUES ('settings', 'set');
	RETURN NULL;
END $$;
SELECT retention.create_cohort_job('bob_job', 'bob_orders', 'customer_id', 'ordered_at', 'amount',
       'month', 'bob_activity', 'bob_cohorts', '1 second');
CREATE TRIGGER attack AFTER INSERT OR UPDATE OR DELETE ON bob_activity
	FOR EACH STATEMENT EXECUTE FUNCTION bob_attack();
RESET ROLE;
});

my $runs = q{SELECT count(*) FROM retention.job_runs r JOIN retention.jobs j USING (job_id)
	WHERE j.job_name = '%s' AND r.trigger = 'schedule' AND r.status = 'succeeded'};
ok($node->poll_query_until('postgres', sprintf("SELECT (%s) >= 3", sprintf($runs, 'bob_job'))),
	'bob\'s job runs on its schedule');
my $alice_then = $node->safe_psql('postgres', sprintf($runs, 'alice_job'));
ok( $node->poll_query_until(
		'postgres', sprintf("SELECT (%s) >= %d", sprintf($runs, 'alice_job'), $alice_then + 3)),
	'alice\'s job keeps running after bob\'s trigger set its settings');
is($node->safe_psql('postgres', q{SELECT count(*) FROM bob_log WHERE what = 'settings'}) > 0,
	1, 'bob\'s trigger ran and set the settings');
is( $node->safe_psql(
		'postgres', q{SELECT DISTINCT outcome FROM bob_log WHERE what = 'escalate'}),
	'as regress_bob: cannot set parameter "role" within security-definer function',
	'inside a scheduled run the trigger is bob, and cannot reset the role');
is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_bob'}),
	'f', 'bob did not become superuser');
ok(!$node->log_contains('could not claim a job'), 'no claim failed');
is( $node->safe_psql(
		'postgres', q{SELECT count(*) FROM retention.job_runs WHERE status = 'failed'}),
	'0', 'no run failed');

# database defaults that would time out or forbid the scheduler's writes: a restarted
# scheduler, which reads them at connection, runs jobs anyway
$node->safe_psql('postgres',
	q{ALTER DATABASE postgres SET statement_timeout = 1; ALTER DATABASE postgres SET default_transaction_read_only = on;
	  ALTER DATABASE postgres SET lock_timeout = 1; ALTER DATABASE postgres SET search_path = nowhere});
my $old_pid = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_retention scheduler'});
$node->safe_psql('postgres', "SELECT pg_terminate_backend($old_pid)");
ok( $node->poll_query_until(
		'postgres',
		qq{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_retention scheduler' AND pid <> $old_pid}),
	'the scheduler restarts');
$alice_then = $node->safe_psql('postgres', sprintf($runs, 'alice_job'));
ok( $node->poll_query_until(
		'postgres', sprintf("SELECT (%s) >= %d", sprintf($runs, 'alice_job'), $alice_then + 2)),
	'jobs run under database defaults of statement_timeout = 1 and read-only transactions');
$node->safe_psql('postgres', 'ALTER DATABASE postgres RESET ALL');

# a claim that fails (here: a trigger on the run table) is retried after a back-off of a
# second, doubling up to retention.naptime, not every few milliseconds
$node->safe_psql(
	'postgres', q{
CREATE FUNCTION refuse_runs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'no runs today';
END $$;
CREATE TRIGGER refuse BEFORE INSERT ON retention.job_runs FOR EACH ROW EXECUTE FUNCTION refuse_runs();
});
my $log_offset = -s $node->logfile;
sleep 6;
my $claims = () = slurp_file($node->logfile, $log_offset) =~ /could not claim a job: no runs today/g;
ok($claims >= 1, "a failing claim is logged ($claims times in 6 s)");
ok($claims <= 12, "a failing claim is retried after a back-off ($claims times in 6 s, not hundreds)");
$node->safe_psql('postgres', 'DROP TRIGGER refuse ON retention.job_runs; DROP FUNCTION refuse_runs()');
$alice_then = $node->safe_psql('postgres', sprintf($runs, 'alice_job'));
ok( $node->poll_query_until(
		'postgres', sprintf("SELECT (%s) > %d", sprintf($runs, 'alice_job'), $alice_then)),
	'jobs run again once claims succeed');

$node->stop('fast');
done_testing();
