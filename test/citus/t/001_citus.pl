# pg_retention on a real Citus cluster: a coordinator and two workers on private ports,
# shared_preload_libraries = 'citus,pg_retention', orders distributed by customer_id over 32
# shards, and a local copy of the same rows on the coordinator. The coordinator's TimeZone is
# Asia/Tokyo, the workers' UTC and America/New_York, so that anything evaluated on a worker in
# the wrong zone shows. Checked against the same queries on the local copy:
#   - every documented aggregate and accessor gives the same result, and EXPLAIN shows the
#     partial aggregation on the workers (worker_partial_agg); 64-way combines;
#   - cohort jobs (local and distributed targets) and loyalty programs after inserts, late
#     rows, 3,000 burned transaction ids on one worker, a shard move, as a non-superuser;
#   - time zones: the three-argument customer_period, a program's zone;
#   - sources whose changes cannot be tracked (reference tables) are refused, new_rows
#     refuses a distributed table;
#   - the scheduler runs jobs on the coordinator and on a single-node Citus (pg_dist_node
#     empty), and never on a worker, where creating a job is refused.
# Run by scripts/test.sh citus, with Citus installed into the private PostgreSQL.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# A Citus node with pg_retention preloaded, in time zone $tz.
sub citus_node
{
	my ($name, $tz) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf(
		'postgresql.conf', qq{
shared_preload_libraries = 'citus,pg_retention'
retention.database = 'postgres'
retention.naptime = 1
citus.shard_count = 32
max_connections = 100
max_worker_processes = 16
timezone = '$tz'
});
	# Citus's connections to the node itself (shard moves) go to this host: the socket directory
	$node->append_conf('postgresql.conf', "citus.local_hostname = '" . $node->host . "'");
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION citus');
	return $node;
}

my $coord = citus_node('coordinator', 'Asia/Tokyo');
my $w1    = citus_node('worker1',     'UTC');
my $w2    = citus_node('worker2',     'America/New_York');
$coord->safe_psql('postgres',
	"SELECT citus_set_coordinator_host('" . $coord->host . "', " . $coord->port . ")");
$coord->safe_psql('postgres',
	"SELECT citus_add_node('" . $_->host . "', " . $_->port . ")")
  for ($w1, $w2);
# the documented order: pg_retention created on the coordinator, Citus creates it on the workers
$coord->safe_psql('postgres', 'CREATE EXTENSION pg_retention');
is($w1->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_retention'}),
	$coord->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_retention'}),
	'pg_retention created on the coordinator is created on the workers');
is( $coord->safe_psql('postgres', 'SELECT retention.node_group()') . ' '
	  . $w1->safe_psql('postgres', 'SELECT retention.node_group() > 0'),
	'0 t', 'node groups: 0 on the coordinator, above 0 on a worker');

# ~50,000 orders of 5,000 customers over 2023-2025 (test/bench/gen_orders.sql's model), a local
# copy, and the same rows distributed
$coord->safe_psql(
	'postgres', q{
SELECT setseed(0.42);
CREATE TABLE orders_local AS
SELECT c.id::bigint AS customer_id,
       c.acq + (random() * least(c.life, timestamptz '2026-01-01' - c.acq)) AS ordered_at,
       round((5 + random() * 95)::numeric, 2) AS amount
FROM (SELECT id, timestamptz '2023-01-01' + random() * interval '1095 days' AS acq,
             (-ln(1 - random()) * 365) * interval '1 day' AS life,
             1 + floor(-ln(1 - random()) * 9)::int AS n
      FROM generate_series(1, 5000) id) c, generate_series(1, c.n);
CREATE TABLE orders (customer_id bigint NOT NULL, ordered_at timestamptz NOT NULL, amount numeric(12,2) NOT NULL);
SELECT create_distributed_table('orders', 'customer_id');
INSERT INTO orders SELECT * FROM orders_local;
CREATE TABLE orders64 (LIKE orders);
SELECT create_distributed_table('orders64', 'customer_id', shard_count => 64);
INSERT INTO orders64 SELECT * FROM orders_local;
});
# per-customer states stored in a table (roll-ups): locally and distributed by customer
$coord->safe_psql(
	'postgres', q{
CREATE TABLE states_local AS
SELECT customer_id, retention.cohort_agg(a) AS c, retention.retention_agg(a) AS r, retention.revenue_agg(a) AS v,
       retention.span_agg(spans, 'month') AS sp, retention.activity_union(a) AS a
FROM (SELECT customer_id, retention.activity_agg(retention.customer_period(ordered_at, 'month', 'UTC'), amount) AS a,
             range_agg(daterange(retention.local_date(ordered_at, 'UTC'), retention.local_date(ordered_at, 'UTC') + 45)) AS spans
      FROM orders_local GROUP BY customer_id) x GROUP BY customer_id;
CREATE TABLE states (LIKE states_local);
SELECT create_distributed_table('states', 'customer_id');
INSERT INTO states SELECT * FROM states_local;
});
my $rows = $coord->safe_psql('postgres', 'SELECT count(*) FROM orders_local');
cmp_ok($rows, '>', 40000, "$rows orders");
is($coord->safe_psql('postgres', 'SELECT count(*) FROM orders'), $rows, 'all of them distributed');

# --- aggregates and accessors: the same result from the distributed and the local table ---
# Each query names the table %T; results are compared as text, after sorting.
my $act = q{(SELECT customer_id, retention.activity_agg(retention.customer_period(ordered_at, 'month', 'UTC'), amount) AS activity
             FROM %T GROUP BY customer_id)};
my $rfm = q{(SELECT customer_id, (r).* FROM (SELECT customer_id,
               retention.rfm_agg(retention.local_date(ordered_at, 'UTC'), amount, '2026-01-01', 'week') AS r
               FROM %T GROUP BY customer_id) x)};
my $periods = q{(SELECT customer_id, (count(DISTINCT retention.customer_period(ordered_at, 'quarter', 'UTC')) - 1)::int AS frequency,
                 (max(retention.customer_period(ordered_at, 'quarter', 'UTC')) - min(retention.customer_period(ordered_at, 'quarter', 'UTC')))::int AS recency,
                 ('2026-Q1'::retention.customer_period - min(retention.customer_period(ordered_at, 'quarter', 'UTC')))::int AS periods
                 FROM %T GROUP BY customer_id)};
my @same = (
	[ 'activity_agg(period, amount)', "SELECT customer_id, activity::text FROM $act a" ],
	[ 'activity_agg(period)',
		q{SELECT customer_id, retention.activity_agg(retention.customer_period(ordered_at, 'week', 'UTC'))::text FROM %T GROUP BY 1} ],
	[ 'activity_union',
		q{SELECT customer_id, retention.activity_union(a)::text FROM (SELECT customer_id,
		  retention.activity_agg(retention.customer_period(ordered_at, 'month', 'UTC'), amount) AS a FROM %T
		  GROUP BY customer_id, extract(year FROM ordered_at AT TIME ZONE 'UTC')) x GROUP BY 1} ],
	[ 'activity accessors',
		"SELECT customer_id, retention.first_period(activity), retention.last_period(activity), retention.active_periods(activity), "
		  . "retention.orders(activity), retention.revenue(activity) FROM $act a" ],
	[ 'cohort_table (two-step, on)', "SELECT * FROM retention.cohort_table((SELECT retention.cohort_agg(activity) FROM $act a), 'on')" ],
	[ 'cohort_table (two-step, on_or_after)',
		"SELECT * FROM retention.cohort_table((SELECT retention.cohort_agg(activity) FROM $act a), 'on_or_after')" ],
	[ 'cohort_table (one-pass with amount)',
		q{SELECT * FROM retention.cohort_table((SELECT retention.cohort_agg(customer_id, retention.customer_period(ordered_at, 'month', 'UTC'), amount) FROM %T))} ],
	[ 'cohort_table (one-pass)',
		q{SELECT * FROM retention.cohort_table((SELECT retention.cohort_agg(customer_id, retention.customer_period(ordered_at, 'quarter', 'UTC')) FROM %T))} ],
	[ 'cohort_agg grouped, then cohort_union',
		"SELECT * FROM retention.cohort_table((SELECT retention.cohort_union(s) FROM (SELECT retention.cohort_agg(activity) AS s FROM $act a GROUP BY customer_id % 7) x))" ],
	[ 'cohort_union of stored states', q{SELECT * FROM retention.cohort_table((SELECT retention.cohort_union(c) FROM %T))},
		'states', 'states_local' ],
	[ 'retention_union of stored states', q{SELECT * FROM retention.retention_table((SELECT retention.retention_union(r) FROM %T))},
		'states', 'states_local' ],
	[ 'revenue_union of stored states', q{SELECT * FROM retention.revenue_table((SELECT retention.revenue_union(v) FROM %T))},
		'states', 'states_local' ],
	[ 'span_union of stored states', q{SELECT * FROM retention.span_table((SELECT retention.span_union(sp) FROM %T))},
		'states', 'states_local' ],
	[ 'activity_union of stored activities', q{SELECT customer_id % 10, retention.activity_union(a)::text FROM %T GROUP BY 1},
		'states', 'states_local' ],
	[ 'cohort_table_diff',
		"SELECT * FROM retention.cohort_table_diff((SELECT retention.cohort_agg(activity) FROM $act a), "
		  . "(SELECT retention.cohort_agg(activity) FROM $act a WHERE customer_id % 3 = 0), 'on')" ],
	[ 'cohort_nrr_table', "SELECT * FROM retention.cohort_nrr_table((SELECT retention.cohort_agg(activity) FROM $act a))" ],
	[ 'cohort_heatmap_svg', "SELECT retention.cohort_heatmap_svg((SELECT retention.cohort_agg(activity) FROM $act a))" ],
	[ 'retention_table (two-step)',
		"SELECT * FROM retention.retention_table((SELECT retention.retention_agg(activity) FROM $act a), inactivity => 2)" ],
	[ 'retention_table (one-pass)',
		q{SELECT * FROM retention.retention_table((SELECT retention.retention_agg(customer_id, retention.customer_period(ordered_at, 'month', 'UTC')) FROM %T))} ],
	[ 'retention_agg grouped, then retention_union, and lifecycle_table',
		"SELECT * FROM retention.lifecycle_table((SELECT retention.retention_union(s) FROM (SELECT retention.retention_agg(activity) AS s FROM $act a GROUP BY customer_id % 5) x))" ],
	[ 'revenue_table (two-step)', "SELECT * FROM retention.revenue_table((SELECT retention.revenue_agg(activity) FROM $act a))" ],
	[ 'revenue_table (one-pass)',
		q{SELECT * FROM retention.revenue_table((SELECT retention.revenue_agg(customer_id, retention.customer_period(ordered_at, 'month', 'UTC'), amount) FROM %T))} ],
	[ 'revenue_agg grouped, then revenue_union',
		"SELECT * FROM retention.revenue_table((SELECT retention.revenue_union(s) FROM (SELECT retention.revenue_agg(activity) AS s FROM $act a GROUP BY customer_id % 4) x))" ],
	[ 'span_agg grouped, then span_union, and span_table',
		q{SELECT * FROM retention.span_table((SELECT retention.span_union(s) FROM (SELECT retention.span_agg(spans, 'month') AS s
		  FROM (SELECT customer_id, range_agg(daterange(retention.local_date(ordered_at, 'UTC'), retention.local_date(ordered_at, 'UTC') + 45)) AS spans
		        FROM %T GROUP BY customer_id) x GROUP BY customer_id % 3) y), 'chartmogul')} ],
	[ 'nps_agg and csat_agg',
		q{SELECT retention.nps_agg((amount * 100)::int % 11)::text, retention.csat_agg((amount * 100)::int % 5 + 1, 5)::text FROM %T} ],
	[ 'rfm_agg', "SELECT * FROM $rfm r" ],
	[ 'rfm_holdout_agg',
		q{SELECT customer_id, retention.rfm_holdout_agg(retention.local_date(ordered_at, 'UTC'), amount, '2025-01-01', '2026-01-01', 'week')::text FROM %T GROUP BY 1} ],
	[ 'bgnbd_fit, paretonbd_fit, mbgnbd_fit, gammagamma_fit',
		"SELECT round((b).r::numeric, 6), round((b).alpha::numeric, 6), round((b).a::numeric, 6), round((b).b::numeric, 6), round((b).log_likelihood::numeric, 4), "
		  . "round((p).r::numeric, 6), round((p).s::numeric, 6), round((m).a::numeric, 6), round((g).p::numeric, 6), round((g).q::numeric, 6), round((g).gamma::numeric, 6) "
		  . "FROM (SELECT retention.bgnbd_fit(frequency::int, recency, t) AS b, retention.paretonbd_fit(frequency::int, recency, t) AS p, "
		  . "retention.mbgnbd_fit(frequency::int, recency, t) AS m, "
		  . "retention.gammagamma_fit(frequency::int, monetary_value::float8) FILTER (WHERE frequency > 0) AS g FROM $rfm r) x" ],
	[ 'bgbb_fit and sbg_fit',
		"SELECT round((b).alpha::numeric, 6), round((b).beta::numeric, 6), round((b).gamma::numeric, 6), round((b).delta::numeric, 6), "
		  . "round((s).alpha::numeric, 6), round((s).beta::numeric, 6) FROM (SELECT retention.bgbb_fit(frequency::int, recency, periods) AS b, "
		  . "retention.sbg_fit(greatest(recency, 1), recency < periods) AS s FROM $periods p) x" ],
	[ 'min and max of customer_period',
		q{SELECT min(retention.customer_period(ordered_at, 'week', 'UTC')), max(retention.customer_period(ordered_at, 'day', 'UTC')) FROM %T} ],
	[ '64-way combines (cohort_table one-pass, month)',
		q{SELECT * FROM retention.cohort_table((SELECT retention.cohort_agg(customer_id, retention.customer_period(ordered_at, 'month', 'UTC'), amount) FROM %T))},
		'orders64' ],
	[ '64-way combines (retention_table two-step, week)',
		q{SELECT * FROM retention.retention_table((SELECT retention.retention_agg(activity) FROM (SELECT customer_id,
		  retention.activity_agg(retention.customer_period(ordered_at, 'week', 'UTC')) AS activity FROM %T GROUP BY 1) a))},
		'orders64' ],
	[ '64-way combines (cohort_table one-pass, day)',
		q{SELECT * FROM retention.cohort_table((SELECT retention.cohort_agg(customer_id, retention.customer_period(ordered_at, 'day', 'UTC')) FROM %T))},
		'orders64' ],
);

# run a query on the coordinator with %T replaced by a table; its rows sorted
sub rows_of
{
	my ($q, $table) = @_;
	(my $sql = $q) =~ s/%T/$table/g;
	return $coord->safe_psql('postgres', "SELECT x::text FROM ($sql) x ORDER BY 1");
}
for my $t (@same)
{
	my ($name, $q, $dist, $local_table) = @$t;
	my $local = rows_of($q, $local_table // 'orders_local');
	isnt($local, '', "$name: the local query returns rows");
	is(rows_of($q, $dist // 'orders'), $local, "$name: distributed = local");
}

# the partial aggregation runs on the workers: Citus wraps each aggregate in worker_partial_agg
# in the workers' query and combines the states on the coordinator
my %pushed;
for my $t (@same)
{
	my ($name, $q, $dist) = @$t;
	(my $sql = $q) =~ s/%T/$dist \/\/ 'orders'/ge;
	my $plan = $coord->safe_psql('postgres', "EXPLAIN (VERBOSE, COSTS OFF) $sql");
	$pushed{$1} = 1 while $plan =~ /worker_partial_agg\('retention\.(\w+)\(/g;
}
is( join(' ', sort keys %pushed),
	'activity_union bgbb_fit bgnbd_fit cohort_agg cohort_union csat_agg gammagamma_fit mbgnbd_fit nps_agg paretonbd_fit '
	  . 'retention_agg retention_union revenue_agg revenue_union sbg_fit span_agg span_union',
	'EXPLAIN shows every state aggregate partially aggregated on the workers');
like(
	$coord->safe_psql('postgres',
		q{EXPLAIN (VERBOSE, COSTS OFF) SELECT customer_id, retention.activity_agg(retention.customer_period(ordered_at, 'month', 'UTC'), amount) FROM orders GROUP BY 1}),
	qr/Task Count: 32.*retention\.activity_agg/s,
	'per-customer aggregates are pushed down whole to the 32 shards');

TODO:
{
	local $TODO = 'issue 12 item 4 (another change): combined day-level states grow slack';
	my $q =
	  q{SELECT count(*) FROM retention.retention_table((SELECT retention.retention_agg(activity) FROM (SELECT customer_id,
	    retention.activity_agg(retention.customer_period(ordered_at, 'day', 'UTC')) AS activity FROM %T GROUP BY 1) a))};
	my ($ret, $out, $err) = $coord->psql('postgres', ($q =~ s/%T/orders64/r));
	is("$ret $out", '0 ' . $coord->safe_psql('postgres', ($q =~ s/%T/orders_local/r)),
		'64-way combine of day-level retention states over 1,096 days');
}

# --- time zones ---
is( rows_of(q{SELECT customer_id, retention.customer_period(ordered_at, 'month', 'Asia/Tokyo') FROM %T}, 'orders'),
	rows_of(q{SELECT customer_id, retention.customer_period(ordered_at, 'month', 'Asia/Tokyo') FROM %T}, 'orders_local'),
	'customer_period(ts, kind, zone) is the same on the workers');
isnt(
	rows_of(q{SELECT customer_id, retention.customer_period(ordered_at, 'day') FROM %T}, 'orders'),
	rows_of(q{SELECT customer_id, retention.customer_period(ordered_at, 'day') FROM %T}, 'orders_local'),
	'customer_period(ts, kind) follows the zone of the node evaluating it (documented; use the zone argument)');

# --- jobs and programs, on a distributed source and on the local copy ---
$coord->safe_psql(
	'postgres', q{
CREATE ROLE analyst LOGIN;
GRANT SELECT, INSERT ON orders, orders_local TO analyst;
GRANT CREATE ON SCHEMA public TO analyst;
SELECT retention.create_cohort_job('dist', 'orders', 'customer_id', 'ordered_at', 'amount', 'month',
       'dist_activity', 'dist_cohorts', '1 day', timezone => 'Asia/Tokyo');
SELECT retention.create_cohort_job('dist_targets', 'orders', 'customer_id', 'ordered_at', 'amount', 'week',
       'dt_activity', 'dt_cohorts', '1 day', timezone => 'Asia/Tokyo', mode => 'on_or_after', targets => 'distributed');
SELECT retention.create_cohort_job('local', 'orders_local', 'customer_id', 'ordered_at', 'amount', 'month',
       'local_activity', 'local_cohorts', '1 day', timezone => 'Asia/Tokyo');
SELECT retention.create_cohort_job('local_week', 'orders_local', 'customer_id', 'ordered_at', 'amount', 'week',
       'lw_activity', 'lw_cohorts', '1 day', timezone => 'Asia/Tokyo', mode => 'on_or_after');
SELECT retention.create_loyalty_program(n, s, 'customer_id', 'ordered_at', 'amount', 'rolling_months',
       '[{"name": "silver", "rank": 1, "min_amount": 300}, {"name": "gold", "rank": 2, "min_amount": 900}]',
       window_months => 12, timezone => 'Asia/Tokyo', tier_table => n || '_tiers', history_table => n || '_history')
FROM (VALUES ('dist_club', 'orders'), ('local_club', 'orders_local')) v(n, s);
SET ROLE analyst;
SELECT retention.create_cohort_job('mine', 'orders', 'customer_id', 'ordered_at', 'amount', 'quarter',
       'mine_activity', 'mine_cohorts', '1 day', timezone => 'Asia/Tokyo');
SELECT retention.create_cohort_job('mine_local', 'orders_local', 'customer_id', 'ordered_at', 'amount', 'quarter',
       'mine_local_activity', 'mine_local_cohorts', '1 day', timezone => 'Asia/Tokyo');
});
is( $coord->safe_psql(
		'postgres', q{SELECT logicalrelid::text, partmethod, colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'orders'::regclass)
		FROM pg_dist_partition WHERE logicalrelid IN ('dt_activity'::regclass, 'dt_cohorts'::regclass) ORDER BY 1}),
	"dt_activity|h|t\ndt_cohorts|n|f",
	'distributed targets: the activity table colocated with the source, the cohort table a reference table');

# refresh everything (as of $as_of for the programs) and count the rows that differ between
# each distributed job's or program's tables and its local twin's
sub refresh_and_compare
{
	my ($what, $as_of, $full) = @_;
	$full = $full ? 'true' : 'false';
	my $out = $coord->safe_psql(
		'postgres', qq{
SELECT retention.refresh_cohort_job(j, full_refresh => $full) >= 0 FROM unnest(ARRAY['dist', 'dist_targets', 'local', 'local_week']) j;
SELECT retention.refresh_loyalty(p, '$as_of', full_refresh => $full) >= 0 FROM unnest(ARRAY['dist_club', 'local_club']) p;
SET ROLE analyst;
SELECT (retention.run_job(j)).status = 'succeeded' FROM unnest(ARRAY['mine', 'mine_local']) j;
RESET ROLE;
CREATE FUNCTION pg_temp.differ(a text, b text) RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM ((SELECT x::text FROM %1\$s x EXCEPT ALL SELECT y::text FROM %2\$s y)
                  UNION ALL (SELECT y::text FROM %2\$s y EXCEPT ALL SELECT x::text FROM %1\$s x)) d', a, b) INTO n;
  RETURN n;
END \$\$;
SELECT string_agg(a || ':' || pg_temp.differ(a, b), ' ' ORDER BY a) FROM (VALUES
  ('dist_activity', 'local_activity'), ('dist_cohorts', 'local_cohorts'), ('dt_activity', 'lw_activity'),
  ('dt_cohorts', 'lw_cohorts'), ('dist_club_tiers', 'local_club_tiers'), ('dist_club_history', 'local_club_history'),
  ('mine_activity', 'mine_local_activity'), ('mine_cohorts', 'mine_local_cohorts')) v(a, b);
});
	my @lines = split /\n/, $out;
	is( $lines[-1],
		'dist_activity:0 dist_club_history:0 dist_club_tiers:0 dist_cohorts:0 dt_activity:0 dt_cohorts:0 mine_activity:0 mine_cohorts:0',
		"$what: the distributed jobs' and programs' tables equal the local ones");
}
# the same rows into both tables, inserted on the coordinator
sub insert_both
{
	my ($select) = @_;
	$coord->safe_psql('postgres',
		"CREATE TEMP TABLE batch (LIKE orders_local); INSERT INTO batch $select; INSERT INTO orders SELECT * FROM batch; INSERT INTO orders_local SELECT * FROM batch;");
}

refresh_and_compare('first refresh', '2025-12-31');
is( $coord->safe_psql('postgres', q{SELECT (SELECT count(*) FROM dist_club_tiers) > 4000, (SELECT count(DISTINCT tier) FROM dist_club_tiers)}),
	"t|3", 'the programs hold every customer, in three tiers');
is( $coord->safe_psql('postgres',
		q{SELECT watermark IS NULL, jsonb_object_keys(node_watermarks->'nodes') FROM retention.jobs WHERE job_name = 'dist' ORDER BY 2}),
	"t|1\nt|2", 'a distributed source has one watermark per worker group, none of its own');

insert_both(q{SELECT customer_id, ordered_at + interval '1 year', amount FROM orders_local WHERE customer_id % 10 = 0 AND ordered_at >= '2025-01-01'});
refresh_and_compare('new rows', '2026-01-31');
is( $coord->safe_psql('postgres', q{SELECT rows > 0 FROM retention.job_runs WHERE run_id = (SELECT last_run_id FROM retention.jobs WHERE job_name = 'mine')}),
	't', 'the non-superuser\'s run over the distributed source wrote rows');

insert_both(q{SELECT customer_id, ordered_at - interval '200 days', amount * 3 FROM orders_local WHERE customer_id % 17 = 0 AND ordered_at >= '2024-01-01' LIMIT 600});
refresh_and_compare('late rows', '2026-02-01');

# 3,000 transaction ids burned on worker1, then rows on both workers: each node's own ids
$w1->safe_psql('postgres', q{DO $$ BEGIN FOR i IN 1..3000 LOOP PERFORM pg_current_xact_id(); COMMIT; END LOOP; END $$});
insert_both(q{SELECT customer_id + 100000, ordered_at + interval '13 months', amount FROM orders_local WHERE customer_id % 9 = 0 AND ordered_at >= '2025-01-01'});
refresh_and_compare('after 3,000 transactions on one worker', '2026-02-28');
refresh_and_compare('full refresh after 3,000 transactions on one worker', '2026-02-28', 1);
insert_both(q{SELECT customer_id, ordered_at + interval '14 months', amount FROM orders_local WHERE customer_id % 11 = 0 AND ordered_at >= '2025-01-01'});
refresh_and_compare('incremental after the full refresh', '2026-03-31');

# a shard moves to the other worker: its rows get that node's transaction ids, the placement
# digest changes, and the next refresh reads everything again instead of twice
my $layout = $coord->safe_psql('postgres', q{SELECT node_watermarks->>'layout' FROM retention.jobs WHERE job_name = 'dist'});
$coord->safe_psql(
	'postgres', qq{
SELECT citus_move_shard_placement(s.shardid, '${\ $w1->host }', ${\ $w1->port }, '${\ $w2->host }', ${\ $w2->port }, shard_transfer_mode => 'block_writes')
FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
WHERE s.logicalrelid = 'orders'::regclass AND n.nodeport = ${\ $w1->port } ORDER BY s.shardid LIMIT 1;
});
insert_both(q{SELECT customer_id, ordered_at + interval '15 months', amount FROM orders_local WHERE customer_id % 13 = 0 AND ordered_at >= '2025-01-01'});
refresh_and_compare('after a shard move', '2026-04-30');
isnt($coord->safe_psql('postgres', q{SELECT node_watermarks->>'layout' FROM retention.jobs WHERE job_name = 'dist'}),
	$layout, 'the shard move changed the recorded layout');
insert_both(q{SELECT customer_id, ordered_at + interval '16 months', amount FROM orders_local WHERE customer_id % 19 = 0 AND ordered_at >= '2025-01-01'});
refresh_and_compare('incremental after the shard move', '2026-05-31');

# loyalty_status on a distributed source reads the customer's rows on a worker, in the
# program's zone: an order at 20:00 UTC on 30 June is 1 July in Tokyo
insert_both(q{SELECT 1, timestamptz '2026-06-30 20:00+00', 5000.00});
is( $coord->safe_psql('postgres',
		q{SELECT retention.loyalty_status('dist_club', 1::bigint, '2026-07-01')::text = retention.loyalty_status('local_club', 1::bigint, '2026-07-01')::text,
		         (retention.loyalty_status('dist_club', 1::bigint, '2026-06-30')).tier <> 'gold' AND (retention.loyalty_status('dist_club', 1::bigint, '2026-07-01')).tier = 'gold'}),
	't|t', 'loyalty_status on a distributed source takes the day in the program\'s zone');

# --- sources whose changes cannot be tracked, and new_rows ---
$coord->safe_psql('postgres', q{CREATE TABLE ref_orders AS TABLE orders_local; SELECT create_reference_table('ref_orders')});
my ($ret, $out, $err) = $coord->psql('postgres',
	q{SELECT retention.create_cohort_job('ref', 'ref_orders', 'customer_id', 'ordered_at', 'amount', 'month', 'ref_a', 'ref_c', '1 day')});
like($err, qr/cannot create job "ref" over public\.ref_orders: its changes cannot be tracked.*HINT:.*create_distributed_table.*a view of it/s,
	'a cohort job over a reference table is refused, saying what to do');
($ret, $out, $err) = $coord->psql('postgres',
	q{SELECT retention.create_loyalty_program('ref_club', 'ref_orders', 'customer_id', 'ordered_at', 'amount', 'calendar_year', '[{"name": "a", "rank": 1, "min_amount": 1}]')});
like($err, qr/cannot create loyalty program "ref_club" over public\.ref_orders: its changes cannot be tracked/, 'so is a loyalty program');
is($coord->safe_psql('postgres', q{SELECT to_regclass('ref_a') IS NULL AND to_regclass('ref_club_tiers') IS NULL}),
	't', 'and nothing is left behind');
# a source that becomes a reference table after the job was made: an incremental refresh is
# refused, saying so; a full refresh reads it all
$coord->safe_psql(
	'postgres', q{
CREATE TABLE later_ref AS TABLE orders_local;
SELECT create_distributed_table('later_ref', 'customer_id');
SELECT retention.create_cohort_job('later', 'later_ref', 'customer_id', 'ordered_at', 'amount', 'month', 'later_a', 'later_c', '1 day');
SELECT retention.refresh_cohort_job('later');
SELECT undistribute_table('later_ref');
SELECT create_reference_table('later_ref');
INSERT INTO later_ref VALUES (424242, '2025-05-05', 50);
});
($ret, $out, $err) = $coord->psql('postgres', q{SELECT retention.refresh_cohort_job('later')});
like($err, qr/cannot refresh job "later" incrementally: the changes of public\.later_ref cannot be tracked.*HINT:  Refresh with full_refresh => true/s,
	'an incremental refresh of a source that became a reference table is refused, saying what to do');
is( $coord->safe_psql('postgres',
		q{SELECT retention.refresh_cohort_job('later', full_refresh => true) > 0; SELECT count(*) FROM later_a WHERE customer_id = 424242}),
	"t\n1", 'a full refresh reads it');

($ret, $out, $err) = $coord->psql('postgres', q{SELECT count(*) FROM retention.new_rows(NULL::orders, '3', '100000')});
like($err, qr/new_rows cannot read "orders": it is a Citus table/, 'new_rows refuses a distributed table instead of reading its empty shell');

# --- the scheduler ---
# on the coordinator: a job runs on schedule
$coord->safe_psql('postgres', q{SELECT retention.alter_job('dist', schedule => '1 second')});
ok( $coord->poll_query_until(
		'postgres',
		q{SELECT count(*) >= 2 FROM retention.job_runs r JOIN retention.jobs j USING (job_id) WHERE j.job_name = 'dist' AND r.trigger = 'schedule' AND r.status = 'succeeded'}),
	'the scheduler runs jobs on the coordinator');

# on a worker: creating a job is refused, and a job row written there anyway is never run
($ret, $out, $err) = $w1->psql('postgres',
	q{CREATE TABLE w_orders (customer_id int, ordered_at timestamptz, amount numeric);
	  SELECT retention.create_cohort_job('w', 'w_orders', 'customer_id', 'ordered_at', 'amount', 'month', 'w_a', 'w_c', '1 second')});
like($err, qr/cannot create job "w" on a Citus worker node.*HINT:  Create it on the coordinator/s, 'a job cannot be created on a worker');
$w1->safe_psql(
	'postgres', q{
INSERT INTO retention.jobs (job_name, job_type, schedule, config, next_run)
VALUES ('w', 'cohort_refresh', '1 second', '{"source": "public.w_orders", "customer_column": "customer_id", "time_column": "ordered_at", "period_kind": "month", "activity_table": "public.w_a", "cohort_table": "public.w_c", "mode": "on"}', now());
});
my $runs = $coord->safe_psql('postgres', q{SELECT count(*) FROM retention.job_runs});
ok( $coord->poll_query_until('postgres', "SELECT count(*) >= $runs + 3 FROM retention.job_runs"),
	'the coordinator keeps running its job meanwhile');
is($w1->safe_psql('postgres', 'SELECT count(*) FROM retention.job_runs'), '0', 'while the worker runs nothing');

# a single-node Citus: citus installed, pg_dist_node empty; it is the coordinator
my $single = citus_node('single', 'UTC');
$single->safe_psql(
	'postgres', q{
CREATE EXTENSION pg_retention;
CREATE TABLE s_orders (customer_id int, ordered_at timestamptz, amount numeric);
INSERT INTO s_orders VALUES (1, '2026-01-05', 10), (2, '2026-02-05', 20);
SELECT retention.create_cohort_job('s', 's_orders', 'customer_id', 'ordered_at', 'amount', 'month', 's_a', 's_c', '1 second');
});
is($single->safe_psql('postgres', 'SELECT count(*) FROM pg_dist_node'), '0', 'single node: pg_dist_node is empty');
ok( $single->poll_query_until(
		'postgres', q{SELECT count(*) > 0 FROM retention.job_runs WHERE trigger = 'schedule' AND status = 'succeeded'}),
	'the scheduler runs jobs on a single-node Citus');

$_->stop for ($single, $w2, $w1, $coord);
done_testing();
