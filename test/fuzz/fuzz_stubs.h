/* What pg_stubs.c shares with the fuzz harness. */
#ifndef PG_RETENTION_FUZZ_STUBS_H
#define PG_RETENTION_FUZZ_STUBS_H

#include <setjmp.h>

extern sigjmp_buf fuzz_error_jmp;	/* where ERROR lands */
extern int	fuzz_error_code;		/* SQLSTATE of the last error */
extern char fuzz_error_message[512];	/* its message */

/* free everything allocated while handling one input */
extern void fuzz_free_all(void);

#endif
