package io.pgchat.testing;

import io.pgchat.Main;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real entry point in its own JVM, as `java -jar` runs it, with only the given environment. */
public final class RunningMain {
    private static final Pattern SERVING = Pattern.compile("serving on http://\\S+:(\\d+) ");
    private final Process process;
    private final StringBuffer output = new StringBuffer();
    public final HttpClient http = HttpClient.newHttpClient();
    private final Thread reader;
    private int port;

    private RunningMain(Process process) {
        this.process = process;
        this.reader = Thread.ofVirtual().start(() -> {
            try (var lines = process.inputReader(StandardCharsets.UTF_8)) {
                lines.lines().forEach(line -> output.append(line).append('\n'));
            } catch (IOException e) {
                // the process ended
            }
        });
    }

    /** Starts and waits until it serves or exits. */
    public static RunningMain start(Map<String, String> env) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "-cp", System.getProperty("java.class.path"), Main.class.getName())
                .redirectErrorStream(true);
        builder.environment().keySet().removeIf(name -> name.startsWith("PG") || name.endsWith("DATABASE_URL"));
        builder.environment().put("PORT", "0");
        builder.environment().putAll(env);
        RunningMain run = new RunningMain(builder.start());
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (run.process.isAlive() && System.nanoTime() < deadline) {
            Matcher serving = SERVING.matcher(run.output);
            if (serving.find()) {
                run.port = Integer.parseInt(serving.group(1));
                return run;
            }
            Thread.sleep(50);
        }
        if (run.process.isAlive()) {
            run.process.destroyForcibly();
            throw new AssertionError("pgchat neither served nor exited within 90 s: " + run.output);
        }
        return run;
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    public HttpResponse<String> post(String room, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(uri("/api/rooms/" + room + "/messages"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Json.object("author", "test", "body", body))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Sends SIGTERM and returns the exit code. */
    public int stop() throws Exception {
        sigterm();
        return exit();
    }

    /** Process.destroy would also close the child's output; its handle sends only the signal. */
    public void sigterm() {
        process.toHandle().destroy();
    }

    /** kill -9: no shutdown hook runs, so an embedded PostgreSQL is left running. */
    public void kill() throws Exception {
        process.toHandle().destroyForcibly();
        exit();
    }

    public int exit() throws Exception {
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the server should exit by itself: " + output);
        reader.join(Duration.ofSeconds(10));
        return process.exitValue();
    }

    public boolean alive() {
        return process.isAlive();
    }

    public String output() {
        return output.toString();
    }
}
