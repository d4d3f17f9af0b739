package io.pgchat.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** One real server for a whole test class, and an empty database after each of its tests. */
public final class ServerPerClass implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {

    private final String[] settings;
    private TestServer server;

    public ServerPerClass(String... settings) {
        this.settings = settings;
    }

    public TestServer get() {
        return server;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        server = TestServer.start(settings);
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        TestDatabase.clear();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        server.close();
    }
}
