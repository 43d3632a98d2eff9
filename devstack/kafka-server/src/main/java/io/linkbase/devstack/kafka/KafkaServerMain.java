package io.linkbase.devstack.kafka;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Formats (once) and runs a single-node KRaft Kafka broker (broker + controller in one process)
 * until this JVM is stopped.
 *
 * <pre>java -cp ... io.linkbase.devstack.kafka.KafkaServerMain --port 9092 --controller-port 9093 --data-dir /some/dir</pre>
 *
 * <p>Replication factors and min ISR of the internal topics are 1, so consumer groups and
 * transactions work on one node. Prints {@code LINKBASE-READY port=N} once an admin client
 * sees the broker in the cluster.
 */
public final class KafkaServerMain {

    private KafkaServerMain() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parse(args);
        int port = Integer.parseInt(require(opts, "port"));
        int controllerPort = Integer.parseInt(require(opts, "controller-port"));
        Path dataDir = Path.of(require(opts, "data-dir")).toAbsolutePath();
        Path logDir = dataDir.resolve("kafka-logs");
        Files.createDirectories(logDir);
        long started = System.nanoTime();

        Properties props = new Properties();
        props.put("process.roles", "broker,controller");
        props.put("node.id", "1");
        props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        props.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        props.put("controller.listener.names", "CONTROLLER");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        props.put("log.dirs", logDir.toString());
        props.put("num.partitions", "1");
        props.put("default.replication.factor", "1");
        props.put("auto.create.topics.enable", "true");
        // one node: every internal topic has one replica, so groups and transactions work
        props.put("offsets.topic.replication.factor", "1");
        props.put("offsets.topic.num.partitions", "5");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("transaction.state.log.num.partitions", "5");
        props.put("share.coordinator.state.topic.replication.factor", "1");
        props.put("share.coordinator.state.topic.min.isr", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        // small and quick: a dev/test broker
        props.put("log.cleaner.dedupe.buffer.size", String.valueOf(8 * 1024 * 1024));
        props.put("num.network.threads", "2");
        props.put("num.io.threads", "2");
        props.put("num.recovery.threads.per.data.dir", "1");

        Path propsFile = dataDir.resolve("server.properties");
        try (Writer w = Files.newBufferedWriter(propsFile)) {
            props.store(w, "written by " + KafkaServerMain.class.getName());
        }

        if (!Files.exists(logDir.resolve("meta.properties"))) {
            int rc = StorageTool.execute(new String[] {
                    "format", "--cluster-id", Uuid.randomUuid().toString(), "--config", propsFile.toString(),
                    "--ignore-formatted"}, System.out);
            if (rc != 0) {
                throw new IllegalStateException("kafka storage format failed with exit code " + rc);
            }
        }

        KafkaConfig config = KafkaConfig.fromProps(props, false);
        KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            server.awaitShutdown();
            System.out.println("LINKBASE-STOPPED kafka");
        }, "kafka-stop"));
        server.startup();

        awaitBroker("127.0.0.1:" + port);
        System.out.printf("LINKBASE-READY port=%d in %d ms%n", port, (System.nanoTime() - started) / 1_000_000);
        System.out.flush();
        server.awaitShutdown();
    }

    /** The broker answers once it registered with the controller and caught up with metadata. */
    private static void awaitBroker(String bootstrap) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        try (Admin admin = Admin.create(p)) {
            while (true) {
                try {
                    Collection<Node> nodes = admin.describeCluster().nodes().get(10, TimeUnit.SECONDS);
                    if (!nodes.isEmpty()) {
                        return;
                    }
                } catch (Exception e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                }
                Thread.sleep(100);
            }
        }
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
