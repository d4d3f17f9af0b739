package io.pgchat;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The build itself: Maven on a JDK too old says what is needed before anything fails to compile. */
class BuildTest {

    @Test
    void anOlderJdkIsToldThatPgchatNeedsJdk21() throws Exception {
        Optional<Path> old = olderJdk();
        assumeTrue(old.isPresent(), "Build check skipped: no JDK older than 21 in /usr/lib/jvm to run Maven with");
        Optional<Path> mvn = Stream.of(System.getenv("PATH").split(File.pathSeparator))
                .map(dir -> Path.of(dir, "mvn")).filter(Files::isExecutable).findFirst();
        assumeTrue(mvn.isPresent(), "Build check skipped: mvn is not on the PATH");
        ProcessBuilder build = new ProcessBuilder(mvn.get().toString(), "-o", "-q", "validate").redirectErrorStream(true);
        build.environment().put("JAVA_HOME", old.get().toString());
        Process process = build.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "mvn validate did not end");
        assertTrue(process.exitValue() != 0, output);
        assertTrue(output.contains("pgchat needs JDK 21 or newer"), output);
    }

    /** A JDK 11 or 17 as Debian installs them, if any. */
    private static Optional<Path> olderJdk() throws Exception {
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return Optional.empty();
        }
        try (Stream<Path> all = Files.list(jvms)) {
            return all.filter(jdk -> jdk.getFileName().toString().matches("(java-(11|17)-openjdk|temurin-(11|17)-jdk).*"))
                    .filter(jdk -> Files.isExecutable(jdk.resolve("bin/java")))
                    .findFirst();
        }
    }
}
