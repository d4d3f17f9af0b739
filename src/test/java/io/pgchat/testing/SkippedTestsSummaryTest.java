package io.pgchat.testing;

import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.platform.launcher.core.LauncherConfig;
import org.junit.platform.launcher.core.LauncherFactory;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

/** A run that skipped tests says which and why, at its end, where Maven shows it. */
class SkippedTestsSummaryTest {

    @Test
    void skippedTestsAreNamedWithTheirReason() {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);
        LauncherFactory.create(LauncherConfig.builder().enableTestExecutionListenerAutoRegistration(false).build())
                .execute(request().selectors(selectClass(Probe.class)).build(), new SkippedTestsSummary(out));
        assertEquals("""
                [WARNING] 3 tests were SKIPPED, so this run did not check what they check:
                [WARNING]   Proxy tests skipped: nginx is needed: 2 tests (Probe.needsNginx, Probe.needsNginxToo)
                [WARNING]   not here: 1 tests (Probe.disabled)
                """, printed.toString(StandardCharsets.UTF_8).replace("\r\n", "\n"));
    }

    /** Run only by the test above (Surefire leaves nested classes out). */
    static class Probe {
        @Test
        void passes() {
        }

        @Test
        void needsNginx() {
            assumeTrue(false, "Proxy tests skipped: nginx is needed");
        }

        @Test
        void needsNginxToo() {
            assumeTrue(false, "Proxy tests skipped: nginx is needed");
        }

        @Disabled("not here")
        @Test
        void disabled() {
        }
    }
}
