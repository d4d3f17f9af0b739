package io.pgchat;

import io.pgchat.ops.EmbeddedDatabase;
import io.pgchat.ops.JsonLogFormatter;

import io.helidon.config.Config;
import io.helidon.logging.common.LogConfig;
import sun.misc.Signal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Reads the configuration, starts an embedded PostgreSQL when no database is configured, and runs
 * the server until SIGTERM or Ctrl-C. A server that cannot start says why in one line and exits 1.
 */
public final class Main {

    private static final Logger LOG = System.getLogger(Main.class.getName());

    private Main() {
    }

    public static void main(String[] args) {
        LogConfig.configureRuntime();
        Config config = Config.create();
        EmbeddedDatabase embedded = null;
        try {
            ChatConfig chat = ChatConfig.from(config, System.getenv());
            if (chat.jsonLogs()) {
                JsonLogFormatter.install();
            }
            if (chat.database().isEmpty()) {
                embedded = EmbeddedDatabase.start(chat.embeddedDirectory());
                LOG.log(Level.INFO, "No DATABASE_URL or PG* variables set: using an embedded PostgreSQL with its data in "
                        + embedded.directory);
                chat = chat.withEmbeddedDatabase(embedded.options());
            }
            PgChat server = PgChat.start(config.get("server"), chat);
            stopOnSignal(server, embedded);
        } catch (Exception e) {
            LOG.log(Level.ERROR, "pgchat cannot start: " + rootMessage(e));
            close(embedded);
            System.exit(1);
        }
    }

    /**
     * A stop requested by the platform (SIGTERM from Docker or systemd, Ctrl-C) is the normal end of a
     * server, so it exits 0 once the streams are closed and the embedded database is down; the JVM's
     * default would report it as a failure (143).
     */
    private static void stopOnSignal(PgChat server, EmbeddedDatabase embedded) {
        AtomicBoolean stopping = new AtomicBoolean();
        Runnable stop = () -> {
            if (stopping.compareAndSet(false, true)) {
                server.close();
                close(embedded);
                LOG.log(Level.INFO, "pgchat stopped");
            }
        };
        for (String signal : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(signal), s -> {
                stop.run();
                System.exit(0);
            });
        }
        Runtime.getRuntime().addShutdownHook(new Thread(stop, "pgchat-shutdown"));
    }

    private static void close(EmbeddedDatabase embedded) {
        if (embedded == null) {
            return;
        }
        try {
            embedded.close();
        } catch (Exception e) {
            LOG.log(Level.WARNING, "The embedded PostgreSQL did not stop cleanly: " + e.getMessage());
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null && cause.getMessage() == null) {
            cause = cause.getCause();
        }
        return cause.getMessage();
    }
}
