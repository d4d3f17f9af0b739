package io.pgchat.ops;

import io.vertx.pgclient.PgConnectOptions;
import org.flywaydb.core.Flyway;

/**
 * The schema, brought up to date at start by Flyway from the SQL files in db/migration, which the
 * build packs into the jar so that they are found whatever the working directory. Flyway takes a
 * PostgreSQL advisory lock, so servers starting together migrate once.
 */
public final class Migrations {

    private Migrations() {
    }

    public static int apply(PgConnectOptions db) {
        return Flyway.configure()
                .dataSource(DatabaseUrl.jdbc(db), db.getUser(), db.getPassword())
                .locations("classpath:db/migration")
                .load()
                .migrate()
                .migrationsExecuted;
    }
}
