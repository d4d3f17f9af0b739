package io.pgchat.ops;

import io.pgchat.Message;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * One JSON object per log line, for log collectors (PGCHAT_LOG_FORMAT=json). Vert.x and Netty log
 * through SLF4J, which slf4j-jdk14 sends to java.util.logging, so their records come here too; what a
 * library prints to standard error instead (printStackTrace) becomes a record a line, logger "stderr".
 */
public final class JsonLogFormatter extends Formatter {

    /** Every handler of the root logger writes JSON from now on, standard error's lines included. */
    public static void install() {
        for (Handler handler : Logger.getLogger("").getHandlers()) {
            handler.setFormatter(new JsonLogFormatter());
        }
        System.setErr(new PrintStream(new LineLogger(Logger.getLogger("stderr"), System.err), true, StandardCharsets.UTF_8));
    }

    /** Each line written becomes a WARNING record; a line written while logging one goes to the original stream. */
    private static final class LineLogger extends OutputStream {
        private final Logger logger;
        private final PrintStream original;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private boolean logging;

        LineLogger(Logger logger, PrintStream original) {
            this.logger = logger;
            this.original = original;
        }

        @Override
        public synchronized void write(int b) {
            if (logging) {
                original.write(b);
            } else if (b == '\n') {
                String text = line.toString(StandardCharsets.UTF_8).stripTrailing();
                line.reset();
                if (!text.isEmpty()) {
                    logging = true;
                    try {
                        logger.log(Level.WARNING, text);
                    } finally {
                        logging = false;
                    }
                }
            } else {
                line.write(b);
            }
        }
    }

    @Override
    public String format(LogRecord record) {
        return new String(Message.write(g -> {
            g.writeStartObject();
            g.writeStringField("time", record.getInstant().toString());
            g.writeStringField("level", record.getLevel().getName());
            g.writeStringField("logger", record.getLoggerName());
            g.writeStringField("message", formatMessage(record));
            if (record.getThrown() != null) {
                StringWriter trace = new StringWriter();
                record.getThrown().printStackTrace(new PrintWriter(trace));
                g.writeStringField("error", trace.toString());
            }
            g.writeEndObject();
        }), StandardCharsets.UTF_8) + System.lineSeparator();
    }
}
