package io.linkbase.devstack;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/** Free TCP ports on 127.0.0.1. */
public final class Ports {

    private Ports() {
    }

    /** A port that is free right now (the OS picks it). */
    public static int free() {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }

    /** {@code preferred} when it is free, else any free port. */
    public static int preferred(int preferred) {
        return preferred > 0 && isFree(preferred) ? preferred : free();
    }

    /** Whether nothing listens on {@code port} (on any local address) and we could bind it. */
    public static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(port));
        } catch (IOException e) {
            return false;
        }
        try (Socket c = new Socket()) {
            c.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** Whether something accepts connections on 127.0.0.1:{@code port}. */
    public static boolean isListening(int port) {
        try (Socket c = new Socket()) {
            c.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The port remembered under {@code key} in {@code file} when it is still free, else a new
     * free port, which is then remembered. Keeps a dev server with a persistent data
     * directory on the same ports across restarts.
     */
    static synchronized int remembered(Path file, String key) {
        Properties p = new Properties();
        try {
            if (Files.exists(file)) {
                try (Reader r = Files.newBufferedReader(file)) {
                    p.load(r);
                }
            }
            String old = p.getProperty(key);
            if (old != null && isFree(Integer.parseInt(old))) {
                return Integer.parseInt(old);
            }
            int port = free();
            p.setProperty(key, String.valueOf(port));
            Files.createDirectories(file.getParent());
            try (Writer w = Files.newBufferedWriter(file)) {
                p.store(w, "ports used by the devstack servers in this data directory");
            }
            return port;
        } catch (IOException | NumberFormatException e) {
            return free();
        }
    }
}
