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
 * <pre>java -cp ... io.linkbase.devstack.kafka.KafkaServerMain --port 9092 --controller-port 9093 --data-dir /some/dir
 *     --user linkbase --password-file /some/dir/kafka-password</pre>
 *
 * <p>The client listener takes only SASL/SCRAM-SHA-256 logins: the user is added to the
 * metadata when the storage is formatted (KRaft keeps SCRAM credentials there), and the broker
 * logs in to itself as the same user. The controller listener answers controller requests only.
 *
 * <p>Replication factors and min ISR of the internal topics are 1, so consumer groups and
 * transactions work on one node. Prints {@code LINKBASE-READY port=N} once an admin client
 * sees the broker in the cluster.
 */
public final class KafkaServerMain {

    private static final String MECHANISM = "SCRAM-SHA-256";

    private KafkaServerMain() {
    }

    private static String jaas(String user, String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user
            + "\" password=\"" + password + "\";";
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parse(args);
        int port = Integer.parseInt(require(opts, "port"));
        int controllerPort = Integer.parseInt(require(opts, "controller-port"));
        Path dataDir = Path.of(require(opts, "data-dir")).toAbsolutePath();
        Path logDir = dataDir.resolve("kafka-logs");
        String user = require(opts, "user");
        String password = Files.readString(Path.of(require(opts, "password-file"))).trim();
        Path userMarker = dataDir.resolve("scram-user");
        Files.createDirectories(logDir);
        long started = System.nanoTime();

        Properties props = new Properties();
        props.put("process.roles", "broker,controller");
        props.put("node.id", "1");
        props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        props.put("listeners", "SASL_PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        props.put("advertised.listeners", "SASL_PLAINTEXT://127.0.0.1:" + port);
        props.put("controller.listener.names", "CONTROLLER");
        props.put("inter.broker.listener.name", "SASL_PLAINTEXT");
        props.put("listener.security.protocol.map", "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT");
        props.put("sasl.enabled.mechanisms", MECHANISM);
        props.put("sasl.mechanism.inter.broker.protocol", MECHANISM);
        props.put("listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config", jaas(user, password));
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
                    "--add-scram", MECHANISM + "=[name=" + user + ",password=" + password + "]",
                    "--ignore-formatted"}, System.out);
            if (rc != 0) {
                throw new IllegalStateException("kafka storage format failed with exit code " + rc);
            }
            Files.writeString(userMarker, user);
        } else if (!Files.exists(userMarker) || !Files.readString(userMarker).trim().equals(user)) {
            // SCRAM users are added when the storage is formatted; a data directory formatted
            // before the broker took logins has none, and no client could log in
            throw new IllegalStateException("the Kafka data in " + logDir + " has no SCRAM user " + user
                + " (it predates SASL in devstack): delete " + dataDir + " and start again");
        }

        KafkaConfig config = KafkaConfig.fromProps(props, false);
        KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            server.awaitShutdown();
            System.out.println("LINKBASE-STOPPED kafka");
        }, "kafka-stop"));
        server.startup();

        awaitBroker("127.0.0.1:" + port, user, password);
        System.out.printf("LINKBASE-READY port=%d in %d ms%n", port, (System.nanoTime() - started) / 1_000_000);
        System.out.flush();
        server.awaitShutdown();
    }

    /** The broker answers once it registered with the controller and caught up with metadata. */
    private static void awaitBroker(String bootstrap, String user, String password) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put("security.protocol", "SASL_PLAINTEXT");
        p.put("sasl.mechanism", MECHANISM);
        p.put("sasl.jaas.config", jaas(user, password));
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
