package io.pgchat.access;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Who is asking, for limits per client: the peer's address, or, when the peer is one of our own
 * proxies (pgchat.limits.trusted.proxies), the address they saw. As nginx's set_real_ip_from with
 * real_ip_recursive on: X-Forwarded-For (every header line, in order) is read from the right, past
 * every trusted address, to the first one that is not ours; only a trusted proxy wrote it, so a
 * client cannot choose it. When every entry is trusted, the left-most is the client.
 */
public final class ClientAddress {

    private static final HeaderName X_FORWARDED_PROTO = HeaderNames.create("X-Forwarded-Proto");
    // Literal addresses only: InetAddress.getByName would ask DNS for anything else.
    private static final Pattern IPV4 = Pattern.compile("((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}"
            + "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    /** An address range: the first prefixLength bits of network. */
    private record Cidr(byte[] network, int prefixLength) {
        boolean contains(InetAddress address) {
            byte[] bytes = address.getAddress();
            if (bytes.length != network.length) {
                return false;
            }
            for (int bit = 0; bit < prefixLength; bit += 8) {
                int mask = 0xff << (8 - Math.min(8, prefixLength - bit)) & 0xff;
                if ((bytes[bit / 8] & mask) != (network[bit / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }

    private final List<Cidr> trusted;

    private ClientAddress(List<Cidr> trusted) {
        this.trusted = trusted;
    }

    /**
     * The trusted proxies, comma- or space-separated addresses or CIDRs (10.0.0.0/8, fd00::/8,
     * 192.168.1.7); empty: none, every client is its peer. Throws with the entry that is not one.
     */
    public static ClientAddress trusting(String proxies) {
        List<Cidr> ranges = new ArrayList<>();
        for (String entry : proxies.strip().split("[,\\s]+")) {
            if (entry.isEmpty()) {
                continue;
            }
            int slash = entry.indexOf('/');
            String host = slash < 0 ? entry : entry.substring(0, slash);
            InetAddress address = parse(host).orElseThrow(() -> new IllegalArgumentException(
                    "'" + entry + "' is not an IPv4 or IPv6 address or CIDR"));
            int bits = address.getAddress().length * 8;
            String prefix = slash < 0 ? String.valueOf(bits) : entry.substring(slash + 1);
            if (!prefix.matches("[0-9]{1,3}") || Integer.parseInt(prefix) > bits) {
                throw new IllegalArgumentException("'" + entry + "' has a prefix length that is not 0 to " + bits);
            }
            ranges.add(new Cidr(address.getAddress(), Integer.parseInt(prefix)));
        }
        return new ClientAddress(List.copyOf(ranges));
    }

    /** The client's address, as a text that keys its limits. */
    public String of(ServerRequest req) {
        InetAddress peer = peer(req);
        if (peer == null) {
            return String.valueOf(req.remotePeer().address());
        }
        if (!trusts(peer)) {
            return peer.getHostAddress();
        }
        List<String> forwarded = values(req, HeaderNames.X_FORWARDED_FOR);
        InetAddress client = peer;
        for (int i = forwarded.size() - 1; i >= 0; i--) {
            Optional<InetAddress> hop = parse(forwarded.get(i));
            if (hop.isEmpty()) {
                break; // not an address: the last one a trusted proxy gave stands, as in nginx
            }
            client = hop.get();
            if (!trusts(client)) {
                break;
            }
        }
        return client.getHostAddress();
    }

    /** Over HTTPS here, or to a trusted proxy that says so (X-Forwarded-Proto, as the nearest one wrote it). */
    boolean secure(ServerRequest req) {
        if (req.isSecure()) {
            return true;
        }
        InetAddress peer = peer(req);
        List<String> proto = values(req, X_FORWARDED_PROTO);
        return peer != null && trusts(peer) && !proto.isEmpty() && proto.getLast().equalsIgnoreCase("https");
    }

    /** Whether the address is one of our proxies: its connections are every client's, not one's. */
    public boolean trusts(InetAddress address) {
        return trusted.stream().anyMatch(range -> range.contains(address));
    }

    private static InetAddress peer(ServerRequest req) {
        return req.remotePeer().address() instanceof InetSocketAddress inet ? inet.getAddress() : null;
    }

    /** Every comma-separated entry of every line of the header, in order. */
    private static List<String> values(ServerRequest req, HeaderName name) {
        if (!req.headers().contains(name)) {
            return List.of();
        }
        return req.headers().get(name).allValues().stream()
                .flatMap(line -> Arrays.stream(line.split(",")))
                .map(String::strip)
                .filter(entry -> !entry.isEmpty())
                .toList();
    }

    /** A literal IPv4 or IPv6 address (brackets allowed around IPv6), never a name to look up. */
    private static Optional<InetAddress> parse(String text) {
        String host = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        boolean ipv6 = IPV6.matcher(host).matches();
        if (!ipv6 && !IPV4.matcher(host).matches()) {
            return Optional.empty();
        }
        try {
            // In brackets an IPv6 text that is not an address is refused, where bare it would be looked up.
            return Optional.of(InetAddress.getByName(ipv6 ? "[" + host + "]" : host));
        } catch (UnknownHostException notAnAddress) {
            return Optional.empty();
        }
    }
}
