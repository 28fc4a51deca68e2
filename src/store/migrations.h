/* migrations: the ordered list of schema migrations (see migrations.c). */
#ifndef KILN_MIGRATIONS_H
#define KILN_MIGRATIONS_H

extern const char *const db_migrations[];
extern const int db_nmigrations;

#endif
