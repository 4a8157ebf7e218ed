# pg_retention: PGXS build. The version lives only in pg_retention.control.

EXTENSION = pg_retention
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = $(EXTENSION)
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The current version's install script is assembled from one SQL part per concern
# (src/sql/NN_name.sql, in file-name order) and committed; `make` keeps it in step with
# the parts. Older base scripts and the hand-written upgrade scripts sit beside it.
SQL_PARTS = $(sort $(wildcard src/sql/*.sql))
DATA = $(sort $(EXTENSION)--$(EXTVERSION).sql $(wildcard $(EXTENSION)--*.sql))

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=$(EXTENSION)
ISOLATION = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation/output --load-extension=$(EXTENSION)
TAP_TESTS = $(if $(wildcard test/t/*.pl),1)

EXTRA_CLEAN = results regression.diffs regression.out test/isolation/output

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

all: $(EXTENSION)--$(EXTVERSION).sql

# PGXS tracks no header dependencies here: rebuild every object when a header changes (a
# struct's layout shared between files must not differ between stale and fresh objects).
$(OBJS): $(wildcard src/*.h)

# Always reassembled (cheap), so a checkout whose file times say otherwise cannot install
# a stale script; CI then checks that the committed copy matches.
$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS) FORCE
	cat $(SQL_PARTS) > $@
.PHONY: FORCE
FORCE:

# TAP tests live under test/t rather than PGXS's default t/.
prove_installcheck = $(if $(TAP_TESTS),cd $(srcdir) && TESTDIR='$(CURDIR)' PATH="$(bindir):$$PATH" PGPORT='6$(DEF_PGPORT)' \
	PG_REGRESS='$(top_builddir)/src/test/regress/pg_regress' \
	$(PROVE) $(PG_PROVE_FLAGS) $(PROVE_FLAGS) test/t/*.pl)

# One suite at a time against a running server (scripts/test.sh uses these).
.PHONY: regresscheck isolationcheck
regresscheck:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)
isolationcheck:
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)
