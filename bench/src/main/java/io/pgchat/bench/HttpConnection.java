package io.pgchat.bench;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A minimal blocking HTTP/1.1 keep-alive client for one publisher thread: a few thousand posts per
 * second over a handful of connections, where a thread each is cheap and the JDK HttpClient's
 * machinery would only add CPU on a machine whose two cores the server needs.
 */
final class HttpConnection implements Closeable {

    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    private final byte[] buffer = new byte[16384];
    private int position;
    private int limit;
    private boolean closeAfter;
    /** The body of the last response. */
    byte[] body = new byte[0];

    HttpConnection(String host, int port) throws IOException {
        socket = new Socket(host, port);
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(30_000);
        out = socket.getOutputStream();
        in = socket.getInputStream();
    }

    static byte[] request(String method, String path, String host, String contentType, byte[] body) {
        StringBuilder head = new StringBuilder(160).append(method).append(' ').append(path)
                .append(" HTTP/1.1\r\nHost: ").append(host).append("\r\n");
        if (body != null) {
            head.append("Content-Type: ").append(contentType).append("\r\nContent-Length: ")
                    .append(body.length).append("\r\n");
        }
        byte[] h = head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
        if (body == null) {
            return h;
        }
        byte[] all = java.util.Arrays.copyOf(h, h.length + body.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return all;
    }

    /** Sends the request and reads the whole response; returns its status. */
    int exchange(byte[] request) throws IOException {
        out.write(request);
        out.flush();
        String statusLine = line();
        if (statusLine.length() < 12 || !statusLine.startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP response: " + statusLine);
        }
        int status = Integer.parseInt(statusLine.substring(9, 12));
        long length = 0;
        boolean chunked = false;
        closeAfter = statusLine.startsWith("HTTP/1.0");
        for (String header = line(); !header.isEmpty(); header = line()) {
            String lower = header.toLowerCase();
            if (lower.startsWith("content-length:")) {
                length = Long.parseLong(lower.substring(15).trim());
            } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                chunked = true;
            } else if (lower.startsWith("connection:") && lower.contains("close")) {
                closeAfter = true;
            }
        }
        body = chunked ? chunkedBody() : bytes((int) length);
        return status;
    }

    /** The server said it closes the connection after this response. */
    boolean closing() {
        return closeAfter;
    }

    private byte[] chunkedBody() throws IOException {
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        for (int size; (size = Integer.parseInt(line().split(";")[0].trim(), 16)) > 0; ) {
            all.writeBytes(bytes(size));
            line();
        }
        while (!line().isEmpty()) {
            // trailers
        }
        return all.toByteArray();
    }

    private byte[] bytes(int length) throws IOException {
        byte[] result = new byte[length];
        int filled = 0;
        while (filled < length) {
            if (position == limit) {
                fill();
            }
            int take = Math.min(length - filled, limit - position);
            System.arraycopy(buffer, position, result, filled, take);
            position += take;
            filled += take;
        }
        return result;
    }

    private String line() throws IOException {
        StringBuilder line = new StringBuilder(64);
        for (;;) {
            if (position == limit) {
                fill();
            }
            byte c = buffer[position++];
            if (c == '\n') {
                int end = line.length();
                return end > 0 && line.charAt(end - 1) == '\r' ? line.substring(0, end - 1) : line.toString();
            }
            line.append((char) (c & 0xff));
        }
    }

    private void fill() throws IOException {
        int n = in.read(buffer);
        if (n < 0) {
            throw new EOFException("connection closed by server");
        }
        position = 0;
        limit = n;
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing more to do with it
        }
    }
}
