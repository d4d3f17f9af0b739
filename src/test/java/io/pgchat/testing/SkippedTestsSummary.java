package io.pgchat.testing;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Says at the end of the run, in Maven's output, which tests were skipped and why (Surefire only
 * counts them): a run without Chromium or nginx must not look like a run that checked the page and the
 * proxy. Written to the process's own standard error, which Surefire shows even though it sends the
 * tests' output to files (redirectTestOutputToFile).
 */
public final class SkippedTestsSummary implements TestExecutionListener {

    private final Map<String, List<String>> skippedByReason = new LinkedHashMap<>();
    private final PrintStream out;

    /** As JUnit loads it (META-INF/services): to standard error. */
    public SkippedTestsSummary() {
        this(new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8));
    }

    SkippedTestsSummary(PrintStream out) {
        this.out = out;
    }

    @Override
    public void executionSkipped(TestIdentifier test, String reason) {
        skipped(test, reason);
    }

    @Override
    public void executionFinished(TestIdentifier test, TestExecutionResult result) {
        if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
            skipped(test, result.getThrowable().map(Throwable::getMessage).orElse("no reason given"));
        }
    }

    private synchronized void skipped(TestIdentifier test, String reason) {
        String name = test.getSource().filter(MethodSource.class::isInstance).map(MethodSource.class::cast)
                .map(m -> m.getJavaClass().getSimpleName() + "." + m.getMethodName())
                .orElse(test.getDisplayName());
        skippedByReason.computeIfAbsent(String.valueOf(reason).replace("Assumption failed: ", ""),
                r -> new ArrayList<>()).add(name);
    }

    @Override
    public synchronized void testPlanExecutionFinished(TestPlan plan) {
        if (skippedByReason.isEmpty()) {
            return;
        }
        int count = skippedByReason.values().stream().mapToInt(List::size).sum();
        out.println("[WARNING] " + count + " tests were SKIPPED, so this run did not check what they check:");
        skippedByReason.values().forEach(java.util.Collections::sort);
        skippedByReason.forEach((reason, tests) -> out.println("[WARNING]   " + reason + ": " + tests.size()
                + " tests (" + String.join(", ", tests.subList(0, Math.min(5, tests.size())))
                + (tests.size() > 5 ? ", ..." : "") + ")"));
        out.flush();
    }
}
