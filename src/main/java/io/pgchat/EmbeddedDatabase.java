package io.pgchat;

import io.vertx.pgclient.PgConnectOptions;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The PostgreSQL the server starts for itself when none is configured, so that one command runs the
 * chat on a machine with nothing but a JDK. Its data directory outlives the process: messages survive
 * a restart. A configured database always wins; then nothing here starts.
 */
final class EmbeddedDatabase implements AutoCloseable {

    private final EmbeddedPostgres postgres;
    final Path directory;

    private EmbeddedDatabase(EmbeddedPostgres postgres, Path directory) {
        this.postgres = postgres;
        this.directory = directory;
    }

    /** Starts on a free port, creating the cluster on first use and reusing it afterwards. */
    static EmbeddedDatabase start(Path directory) throws IOException {
        Files.createDirectories(directory.getParent());
        try {
            return new EmbeddedDatabase(EmbeddedPostgres.builder()
                    .setDataDirectory(directory)
                    .setCleanDataDirectory(false)
                    .start(), directory);
        } catch (IllegalStateException | IOException e) {
            throw new IllegalStateException("Could not start an embedded PostgreSQL in " + directory + " ("
                    + e.getMessage() + "); " + ChatConfig.DATABASE_HELP + " to use your own", e);
        }
    }

    PgConnectOptions options() {
        return new PgConnectOptions()
                .setHost("localhost")
                .setPort(postgres.getPort())
                .setUser("postgres")
                .setDatabase("postgres");
    }

    @Override
    public void close() throws IOException {
        postgres.close();
    }
}
