/* pg: the PostgreSQL back-end of the store interface (sql.h). */
#include "base/kiln.h"
#include "store/sqlimpl.h"

int db_pg_open(const char *url, struct db **out, struct buf *err)
{
	(void)url;
	*out = NULL;
	buf_addstr(err, "PostgreSQL stores are not supported by this kiln yet");
	return -1;
}
