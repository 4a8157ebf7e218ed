# Loyalty programs outside the regression database: a program and its tables survive pg_dump
# and a restore, and refresh there; then a loyalty-tier job run by the pg_retention
# scheduler: created by an unprivileged role, it runs on its schedule as that role, writes
# the tier and history tables, picks up new orders on later runs, records a failure when its
# source breaks and recovers when it is repaired.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('loyalty');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'pg_retention'
retention.database = 'postgres'
retention.naptime = 1
log_min_messages = log
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_retention');

# pg_dump keeps a program (a configuration table of the extension) and its tables; the
# restored program passes validation and refreshes
$node->safe_psql(
	'postgres', q{
CREATE DATABASE shop;
});
$node->safe_psql(
	'shop', q{
CREATE EXTENSION pg_retention;
CREATE TABLE sales (customer_id int, sold_on date, total numeric(10,2), kind text);
INSERT INTO sales VALUES (1, '2025-02-01', 400, 'sale'), (1, '2025-03-01', 700, 'sale'), (2, '2025-04-01', 500, 'gift_card');
SELECT retention.create_loyalty_program('club', 'sales', 'customer_id', 'sold_on', 'total', 'calendar_year',
       '[{"name": "VIB", "rank": 1, "min_amount": 350}, {"name": "Rouge", "rank": 2, "min_amount": 1000}]',
       base_tier => 'Insider', exclude => $$s.kind = 'gift_card'$$);
SELECT retention.refresh_loyalty('club', '2025-12-31');
});
my $dumpfile = "$PostgreSQL::Test::Utils::tmp_check/loyalty_dump.sql";
$node->command_ok([ 'pg_dump', '-d', $node->connstr('shop'), '-f', $dumpfile ], 'pg_dump runs');
like(slurp_file($dumpfile), qr/^COPY retention\.loyalty_programs .*\tclub\t/ms, 'the dump holds the program');
$node->safe_psql('postgres', 'CREATE DATABASE shop2');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('shop2'), '-f', $dumpfile ],
	'the dump restores');
is( $node->safe_psql(
		'shop2',
		q{SELECT string_agg(customer_id || ':' || tier, ' ' ORDER BY customer_id) FROM club_tiers}),
	'1:Rouge 2:Insider',
	'with its tier table');
$node->safe_psql('shop2', q{INSERT INTO sales VALUES (2, '2026-01-05', 400, 'sale')});
is( $node->safe_psql(
		'shop2', q{SELECT retention.refresh_loyalty('club', '2026-01-31') > 0;
		           SELECT tier FROM club_tiers WHERE customer_id = 2}),
	"t\nVIB",
	'and the restored program refreshes');

my $accepts = $node->safe_psql('postgres',
	q{SELECT count(*) FROM pg_constraint WHERE conrelid = 'retention.jobs'::regclass
	  AND pg_get_constraintdef(oid) LIKE '%loyalty_refresh%'});
is($accepts, '1', 'retention.jobs accepts loyalty_refresh jobs');
{

# a rolling 12-month program; dates relative to today so that the expectations hold any day
$node->safe_psql(
	'postgres', q{
CREATE ROLE analyst LOGIN;
GRANT CREATE ON SCHEMA public TO analyst;
CREATE TABLE orders (customer_id int, ordered_on date, amount numeric(10,2));
ALTER TABLE orders OWNER TO analyst;
INSERT INTO orders VALUES (1, current_date - 30, 400), (2, current_date - 400, 2000), (3, current_date - 5, 100);
SET ROLE analyst;
SELECT retention.create_loyalty_program('rolling', 'orders', 'customer_id', 'ordered_on', 'amount',
       'rolling_months', '[{"name": "VIB", "rank": 1, "min_amount": 350}, {"name": "Rouge", "rank": 2, "min_amount": 1000}]',
       window_months => 12, base_tier => 'Insider');
SELECT retention.create_loyalty_job('tiers', 'rolling', '1 second');
});

ok( $node->poll_query_until(
		'postgres',
		q{SELECT count(*) > 0 FROM retention.job_runs r JOIN retention.jobs j USING (job_id)
		  WHERE j.job_name = 'tiers' AND r.trigger = 'schedule' AND r.status = 'succeeded'}),
	'a scheduled run of the loyalty job succeeds');
is( $node->safe_psql(
		'postgres', q{SELECT string_agg(customer_id || ':' || tier, ' ' ORDER BY customer_id) FROM rolling_tiers}),
	'1:VIB 2:Insider 3:Insider',
	"the run wrote every customer's tier");
is( $node->safe_psql(
		'postgres',
		q{SELECT string_agg(customer_id || ':' || from_tier || '>' || to_tier || ':' || reason, ' ' ORDER BY customer_id, changed_on)
		  FROM rolling_tier_history}),
	'1:Insider>VIB:qualified 2:Insider>Rouge:qualified 2:Rouge>Insider:expired',
	'and the tier history');
is( $node->safe_psql(
		'postgres',
		q{SELECT DISTINCT r.owner::text || ' ' || (SELECT relowner::regrole::text FROM pg_class WHERE oid = 'rolling_tiers'::regclass)
		  FROM retention.job_runs r JOIN retention.jobs j USING (job_id) WHERE j.job_name = 'tiers'}),
	'analyst analyst',
	'the job runs as the role that created it');
is($node->safe_psql('postgres', q{SELECT last_as_of = current_date FROM retention.loyalty_programs}),
	't', "as of the run's date");

# a new order is picked up by a later run
$node->safe_psql('postgres', q{INSERT INTO orders VALUES (3, current_date, 950)});
ok( $node->poll_query_until(
		'postgres', q{SELECT tier = 'Rouge' FROM rolling_tiers WHERE customer_id = 3}),
	'a later run upgrades the customer with the new order');
is( $node->safe_psql(
		'postgres',
		q{SELECT changed_on = current_date AND reason = 'qualified' FROM rolling_tier_history WHERE customer_id = 3}),
	't', 'and records the change');

# a broken source: the run is recorded as failed, the tables keep the last result
$node->safe_psql('postgres', q{ALTER TABLE orders RENAME COLUMN amount TO total});
ok( $node->poll_query_until(
		'postgres',
		q{SELECT count(*) > 0 FROM retention.job_runs r JOIN retention.jobs j USING (job_id)
		  WHERE j.job_name = 'tiers' AND r.status = 'failed' AND r.message LIKE '%column "amount"%does not exist%'}),
	'a failing run is recorded with its error');
is($node->safe_psql('postgres', q{SELECT count(*) FROM rolling_tiers}), '3',
	'the tier table keeps the previous result');
$node->safe_psql('postgres', q{ALTER TABLE orders RENAME COLUMN total TO amount});
$node->safe_psql('postgres', q{UPDATE retention.jobs SET next_run = now() WHERE job_name = 'tiers'});
ok( $node->poll_query_until(
		'postgres', q{SELECT last_status = 'succeeded' FROM retention.jobs WHERE job_name = 'tiers'}),
	'the job succeeds again once the source is repaired');

# run_job runs the same code in the calling session
is( $node->safe_psql('postgres', q{SET ROLE analyst; SELECT status FROM retention.run_job('tiers')}),
	'succeeded', 'run_job runs the loyalty job by hand');

$node->safe_psql('postgres', q{SET ROLE analyst; SELECT retention.drop_job('tiers')});
}
ok(!$node->log_contains('TRAP'), 'no assertion failure');
$node->stop;
done_testing();
