package io.pgchat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/** One JSON object per log line, for log collectors (PGCHAT_LOG_FORMAT=json). */
final class JsonLogFormatter extends Formatter {

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
