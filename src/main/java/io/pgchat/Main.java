package io.pgchat;

import io.helidon.config.Config;
import io.helidon.logging.common.LogConfig;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/** Reads the configuration and starts the server; a server that cannot start says why and exits 1. */
public final class Main {

    private static final Logger LOG = System.getLogger(Main.class.getName());

    private Main() {
    }

    public static void main(String[] args) {
        LogConfig.configureRuntime();
        Config config = Config.create();
        try {
            PgChat chat = PgChat.start(config.get("server"), ChatConfig.from(config, System.getenv()));
            Runtime.getRuntime().addShutdownHook(new Thread(chat::close, "pgchat-shutdown"));
        } catch (Exception e) {
            LOG.log(Level.ERROR, "pgchat cannot start: " + rootMessage(e));
            System.exit(1);
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
