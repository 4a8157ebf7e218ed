# pg_retention: PGXS build. The version lives only in pg_retention.control.

# `make` builds in the source tree; `make -f /path/to/Makefile` from another directory builds
# there (a VPATH build, one per PostgreSQL major version: scripts/test.sh does this under
# build/pgNN/), reading sources, tests and install scripts from the source tree.
SRC := $(patsubst %/,%,$(dir $(firstword $(MAKEFILE_LIST))))
ifneq ($(SRC),.)
# (PGXS sets VPATH itself only when PostgreSQL was configured in a separate build directory)
VPATH = $(SRC)
endif

EXTENSION = pg_retention
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(SRC)/$(EXTENSION).control)

MODULE_big = $(EXTENSION)
OBJS = $(patsubst $(SRC)/%.c,%.o,$(sort $(wildcard $(SRC)/src/*.c)))

# The current version's install script is assembled from one SQL part per concern
# (src/sql/NN_name.sql, in file-name order) and committed; `make` keeps it in step with
# the parts. Older base scripts and the hand-written upgrade scripts sit beside it.
SQL_PARTS = $(sort $(wildcard $(SRC)/src/sql/*.sql))
DATA = $(sort $(EXTENSION)--$(EXTVERSION).sql $(notdir $(wildcard $(SRC)/$(EXTENSION)--*.sql)))

REGRESS = $(patsubst $(SRC)/sql/%.sql,%,$(sort $(wildcard $(SRC)/sql/*.sql)))
# The tests read test/data/ relative to the directory they run in: run them in the source
# tree. TEST_OUTPUT, if set, is where their results go (scripts/test.sh: build/pgNN).
TEST_OUTPUT ?=
REGRESS_OPTS = --load-extension=$(EXTENSION) $(if $(TEST_OUTPUT),--outputdir=$(TEST_OUTPUT))
ISOLATION = $(patsubst $(SRC)/test/isolation/specs/%.spec,%,$(sort $(wildcard $(SRC)/test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=$(SRC)/test/isolation --load-extension=$(EXTENSION) \
	--outputdir=$(if $(TEST_OUTPUT),$(TEST_OUTPUT)/isolation,test/isolation/output)
TAP_TESTS = $(if $(wildcard $(SRC)/test/t/*.pl),1)

EXTRA_CLEAN = results regression.diffs regression.out test/isolation/output

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

all: $(SRC)/$(EXTENSION)--$(EXTVERSION).sql

# PGXS tracks no header dependencies here: rebuild every object when a header changes (a
# struct's layout shared between files must not differ between stale and fresh objects).
$(OBJS): $(wildcard $(SRC)/src/*.h)

# Always reassembled (cheap), so a checkout whose file times say otherwise cannot install
# a stale script; CI then checks that the committed copy matches. It is written into the
# source tree, where it is committed, in VPATH builds too.
$(SRC)/$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS) FORCE
	cat $(SQL_PARTS) > $@

# A VPATH build would take objects left in the source tree (built for another PostgreSQL
# version, perhaps) as up to date; the object directory must exist in the build directory.
ifneq ($(SRC),.)
ifneq ($(wildcard $(SRC)/src/*.o),)
$(error $(SRC)/src holds objects of an in-tree build: run "make clean" there first)
endif
$(shell mkdir -p src)
endif
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
