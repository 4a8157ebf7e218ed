# ALTER EXTENSION pg_retention UPDATE from the oldest release (0.1.0) to the current version,
# on a database in use: jobs (one owned by an ordinary role) that the scheduler runs, a
# loyalty program, run history, the tables the jobs fill and stored states of every type
# (upgrade/scenario.sql). After the update
#   (a) the catalog equals that of a fresh install of the current version: every member
#       object, its definition, comment, owner, privileges and initial privileges, table
#       columns, constraints, indexes, policies, triggers, and the configuration tables
#       registered for pg_dump (upgrade/describe_extension.sql, compared with diff -u);
#   (b) everything a user reads from the data is unchanged (upgrade/reports.sql);
#   (c) the scheduler goes on running the jobs, and they pick up new orders.
# When (a) fails, the diff is printed and kept in tmp_check/catalog_updated.txt.diff: lines
# with "-" are what a fresh install has and the updated one lacks, lines with "+" what the
# updated one has and a fresh install does not; each line is "object | what | value". The
# upgrade script (pg_retention--0.1.0--0.2.0.sql, ...) must make them equal.
use strict;
use warnings;

use Cwd;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $oldest = '0.1.0';
my $dir = $PostgreSQL::Test::Utils::tmp_check;
my $sql = getcwd() . '/upgrade';    # scenario.sql, reports.sql, describe_extension.sql

# diff -u of two files, '' when they are equal
# diff -u of two files, '' when they are equal; a difference is kept in $b.diff
sub diff_files
{
	my ($a, $b) = @_;
	my ($out, $err) = run_command([ 'diff', '-u', $a, $b ]);
	append_to_file("$b.diff", $out) if $out ne '';
	return $out;
}

# the first 150 lines of a diff, for the test's output
sub head_of
{
	my ($diff) = @_;
	my @lines = split /\n/, $diff;
	return $diff if @lines <= 150;
	return join("\n", @lines[ 0 .. 149 ]) . "\n... (" . scalar(@lines) . " lines in all)\n";
}

# run a SQL file with psql -At into a file
sub psql_file
{
	my ($node, $db, $file, $out) = @_;
	$node->command_ok(
		[
			'psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr($db),
			'-f', $file, '-o', $out
		],
		"$file runs in $db");
}

my $node = PostgreSQL::Test::Cluster->new('update');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'pg_retention'
retention.database = 'shop'
retention.naptime = 1
});
$node->start;
$node->safe_psql('postgres',
	'CREATE DATABASE fresh; CREATE DATABASE shop; CREATE ROLE regress_analyst');
my $current = $node->safe_psql('postgres',
	q{SELECT default_version FROM pg_available_extensions WHERE name = 'pg_retention'});
isnt($current, $oldest, "the current version ($current) is not the oldest release");

$node->safe_psql('fresh', 'CREATE EXTENSION pg_retention');
$node->safe_psql('shop', "CREATE EXTENSION pg_retention VERSION '$oldest'");
psql_file($node, 'shop', "$sql/scenario.sql", "$dir/scenario.out");

# the scheduler runs the jobs of the old version
my $all_jobs_ran = q{SELECT count(DISTINCT job_id) = 3 FROM retention.job_runs
	WHERE trigger = 'schedule' AND status = 'succeeded' AND run_id > %s};
ok($node->poll_query_until('shop', sprintf($all_jobs_ran, 0)),
	"the scheduler runs the three jobs on $oldest");

psql_file($node, 'shop', "$sql/reports.sql", "$dir/reports_before.txt");
my $last_run = $node->safe_psql('shop', 'SELECT max(run_id) FROM retention.job_runs');

$node->safe_psql('shop', 'ALTER EXTENSION pg_retention UPDATE');
is($node->safe_psql('shop', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_retention'}),
	$current, "ALTER EXTENSION UPDATE brings $oldest to $current");

# (a) the catalog
psql_file($node, 'fresh', "$sql/describe_extension.sql", "$dir/catalog_fresh.txt");
psql_file($node, 'shop', "$sql/describe_extension.sql", "$dir/catalog_updated.txt");
my $lines = () = slurp_file("$dir/catalog_fresh.txt") =~ /\n/g;
cmp_ok($lines, '>', 1000, "the catalog description has $lines lines");
my $diff = diff_files("$dir/catalog_fresh.txt", "$dir/catalog_updated.txt");
ok($diff eq '', "the catalog after the update from $oldest equals a fresh $current install")
  or diag("--- a fresh $current install\n+++ updated from $oldest\n"
	  . "(all of it in $dir/catalog_updated.txt.diff)\n" . head_of($diff));

# (b) the data
psql_file($node, 'shop', "$sql/reports.sql", "$dir/reports_after.txt");
$diff = diff_files("$dir/reports_before.txt", "$dir/reports_after.txt");
ok($diff eq '', 'stored states, reports, jobs and job tables read the same after the update')
  or diag(head_of($diff));

# (c) the scheduler goes on: every job runs again, and new orders reach the job tables
$node->safe_psql('shop',
	q{INSERT INTO orders VALUES (1001, '2021-06-01 10:00+00', 700), (1001, '2021-07-01 10:00+00', 600)});
ok($node->poll_query_until('shop', sprintf($all_jobs_ran, $last_run)),
	'after the update the scheduler runs all three jobs again');
ok( $node->poll_query_until(
		'shop', q{SELECT EXISTS (SELECT FROM monthly_activity WHERE customer_id = 1001)
		               AND EXISTS (SELECT FROM weekly_activity WHERE customer_id = 1001)
		               AND EXISTS (SELECT FROM club_tier_history WHERE customer_id = 1001)}),
	'the jobs pick up new orders after the update');
is( $node->safe_psql(
		'shop', qq{SELECT count(*) FROM retention.job_runs WHERE run_id > $last_run AND status <> 'succeeded'}),
	'0',
	'no run after the update failed');

$node->stop;
done_testing();
