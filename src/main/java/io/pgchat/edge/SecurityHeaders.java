package io.pgchat.edge;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

/**
 * Headers on every response that keep the chat page safe: it runs only its own scripts and styles,
 * so a message that slipped into the page as markup could still execute nothing.
 */
public final class SecurityHeaders implements Filter {

    static final String CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; "
            + "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            + "frame-ancestors 'none'; form-action 'self'";

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        res.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        res.header(HeaderNames.X_CONTENT_TYPE_OPTIONS, "nosniff");
        res.header("Referrer-Policy", "no-referrer");
        // The page is a handful of modules that must come from one release: revalidate (a cheap 304)
        // rather than let a browser's heuristic cache mix an old module with a new one.
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        chain.proceed();
    }
}
