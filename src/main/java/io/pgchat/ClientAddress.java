package io.pgchat;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

/** Who is asking, for limits per client: the peer's address, or behind a trusted proxy the one it saw. */
final class ClientAddress {

    private ClientAddress() {
    }

    /**
     * X-Forwarded-For is only believed when configured: anyone can send it. Its last entry is the
     * address our own proxy appended, the only one not written by the client.
     */
    static String of(ServerRequest req, boolean trustForwardedFor) {
        if (trustForwardedFor) {
            String forwarded = req.headers().first(HeaderNames.X_FORWARDED_FOR).orElse("");
            int comma = forwarded.lastIndexOf(',');
            String last = forwarded.substring(comma + 1).strip();
            if (!last.isEmpty()) {
                return last;
            }
        }
        SocketAddress peer = req.remotePeer().address();
        return peer instanceof InetSocketAddress inet ? inet.getAddress().getHostAddress() : String.valueOf(peer);
    }
}
