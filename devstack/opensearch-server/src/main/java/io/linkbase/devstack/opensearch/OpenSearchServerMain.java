package io.linkbase.devstack.opensearch;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs one in-process OpenSearch node (single-node discovery, no security plugin, HTTP on the
 * given port) with the Netty transport, mapper-extras ({@code search_as_you_type}) and
 * analysis-common ({@code asciifolding}, {@code edge_ngram}, ...) plugins until this JVM is
 * stopped.
 *
 * <pre>java -Xmx512m -cp ... io.linkbase.devstack.opensearch.OpenSearchServerMain --port 9200 --transport-port 9300 --data-dir /some/dir</pre>
 *
 * <p>Prints {@code LINKBASE-READY port=N} once the cluster is at least yellow.
 */
public final class OpenSearchServerMain {

    /** {@link Node}'s constructor that takes classpath plugins is protected. */
    static final class PluginNode extends Node {
        PluginNode(Settings settings, Collection<Class<? extends Plugin>> plugins) {
            super(InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> "linkbase-dev"),
                    plugins, true);
        }
    }

    private OpenSearchServerMain() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parse(args);
        int port = Integer.parseInt(require(opts, "port"));
        int transportPort = Integer.parseInt(require(opts, "transport-port"));
        Path home = Path.of(require(opts, "data-dir")).toAbsolutePath();
        Files.createDirectories(home.resolve("data"));
        Files.createDirectories(home.resolve("logs"));
        long started = System.nanoTime();

        Settings settings = Settings.builder()
                .put("cluster.name", "linkbase-dev")
                .put("node.name", "linkbase-dev")
                .put("path.home", home.toString())
                .put("path.data", home.resolve("data").toString())
                .put("path.logs", home.resolve("logs").toString())
                .put("discovery.type", "single-node")
                .put("network.host", "127.0.0.1")
                .put("http.port", port)
                .put("transport.port", transportPort)
                .put("http.type", "netty4")
                .put("transport.type", "netty4")
                // a dev box with a full disk must not turn indices read-only
                .put("cluster.routing.allocation.disk.threshold_enabled", false)
                .put("action.auto_create_index", true)
                .build();

        Node node = new PluginNode(settings,
                List.of(Netty4Plugin.class, MapperExtrasPlugin.class, CommonAnalysisPlugin.class));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(20, TimeUnit.SECONDS);
                System.out.println("LINKBASE-STOPPED opensearch");
            } catch (IOException | InterruptedException e) {
                System.err.println("could not stop OpenSearch: " + e);
            }
        }, "opensearch-stop"));
        node.start();

        node.client().admin().cluster().prepareHealth()
                .setWaitForYellowStatus()
                .setTimeout(org.opensearch.common.unit.TimeValue.timeValueSeconds(60))
                .get();
        System.out.printf("LINKBASE-READY port=%d in %d ms%n", port, (System.nanoTime() - started) / 1_000_000);
        System.out.flush();
        Thread.currentThread().join();
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value pairs, got " + args[i]);
            }
            opts.put(args[i].substring(2), args[i + 1]);
        }
        return opts;
    }

    static String require(Map<String, String> opts, String name) {
        String v = opts.get(name);
        if (v == null) {
            throw new IllegalArgumentException("missing --" + name);
        }
        return v;
    }
}
