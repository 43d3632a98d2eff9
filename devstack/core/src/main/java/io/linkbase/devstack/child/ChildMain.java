package io.linkbase.devstack.child;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Entry point of every JVM that {@link io.linkbase.devstack.ModuleProcess} starts:
 * {@code java ... io.linkbase.devstack.child.ChildMain <real main class> <args...>}.
 *
 * <p>It makes the child die with its parent. The parent holds the write end of the child's
 * stdin pipe and never writes to it; when the parent exits, however it exits (even SIGKILL),
 * the kernel closes that end and this watchdog reads EOF. It then calls {@link System#exit},
 * so the child's shutdown hooks run exactly as on SIGTERM: a runner stops its server (the
 * PostgreSQL runner stops the postmaster, which lives outside the JVM), a Micronaut service
 * shuts down gracefully. Then it runs the real main on this thread.
 */
public final class ChildMain {

    private ChildMain() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length == 0) {
            System.err.println("usage: ChildMain <main class> [args...]");
            System.exit(2);
        }
        Thread watchdog = new Thread(ChildMain::exitWhenStdinCloses, "linkbase-parent-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();

        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (InvocationTargetException e) {
            // A main that failed leaves non-daemon threads behind (a half-started server):
            // report and exit instead of hanging.
            System.err.println("[linkbase] " + args[0] + " failed:");
            e.getCause().printStackTrace();
            System.exit(1);
        }
    }

    private static void exitWhenStdinCloses() {
        InputStream in = System.in;
        byte[] buffer = new byte[512];
        try {
            while (in.read(buffer) >= 0) {
                // the parent never writes; anything it does write is ignored
            }
        } catch (IOException e) {
            // a broken pipe means the same as EOF: the parent is gone
        }
        System.err.println("[linkbase] parent process gone (stdin closed): shutting down");
        System.exit(0);
    }
}
