package io.pgchat.testing;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed certificate for localhost and 127.0.0.1, made by the JDK's keytool and written as
 * the PEM files pgchat.tls.key and pgchat.tls.certificate take (and nginx's ssl_certificate).
 */
public record TestCertificate(Path key, Path certificate) {

    private static final char[] PASSWORD = "pgchat-test".toCharArray();

    public static TestCertificate create(Path directory) throws Exception {
        Path store = directory.resolve("test.p12");
        Process keytool = new ProcessBuilder(System.getProperty("java.home") + File.separator + "bin" + File.separator
                + "keytool", "-genkeypair", "-alias", "pgchat", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", store.toString(),
                "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD))
                .redirectErrorStream(true).start();
        String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!keytool.waitFor(60, TimeUnit.SECONDS) || keytool.exitValue() != 0) {
            throw new IllegalStateException("keytool failed: " + output);
        }
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keys.load(in, PASSWORD);
        }
        TestCertificate made = new TestCertificate(directory.resolve("key.pem"), directory.resolve("cert.pem"));
        Files.writeString(made.key, pem("PRIVATE KEY", keys.getKey("pgchat", PASSWORD).getEncoded()));
        Files.writeString(made.certificate, pem("CERTIFICATE", keys.getCertificate("pgchat").getEncoded()));
        return made;
    }

    /** The server settings that turn TLS on with this certificate. */
    public String[] settings() {
        return new String[] {"pgchat.tls.key", key.toString(), "pgchat.tls.certificate", certificate.toString()};
    }

    /** A client context that trusts this certificate alone, as a browser would once told to. */
    public static SSLContext trusting(Path certificate) {
        try (InputStream in = Files.newInputStream(certificate)) {
            Certificate cert = CertificateFactory.getInstance("X.509").generateCertificate(in);
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            trust.setCertificateEntry("pgchat", cert);
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot trust " + certificate, e);
        }
    }

    public static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }
}
