package io.linkbase.record.support;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.linkbase.devstack.ServiceWiring;
import io.linkbase.devstack.TestServers;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.grpc.ServiceCredentials;
import io.linkbase.kit.grpc.Tenants;
import io.linkbase.proto.internal.v1.ErrorInfo;
import io.linkbase.proto.internal.v1.RecordServiceGrpc;
import io.linkbase.proto.v1.CreateRecordRequest;
import io.linkbase.proto.v1.GetRecordRequest;
import io.linkbase.proto.v1.Record;
import io.linkbase.proto.v1.Value;
import io.linkbase.record.sql.PhysicalNames;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.function.Executable;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The whole record-service in the test JVM on real PostgreSQL and Kafka: schema events go in
 * through Kafka, records through its gRPC port, record events come out on Kafka.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class RecordServiceHarness implements TestPropertyProvider {
    private final int grpcPort = ServiceWiring.freePort();

    @Inject
    protected Db db;

    protected ManagedChannel channel;
    protected KafkaProducer<String, byte[]> producer;
    protected RecordEventTap tap;

    protected abstract String database();

    @Override
    public Map<String, String> getProperties() {
        return ServiceWiring.service()
            .database(TestServers.postgres(), database())
            .kafka(TestServers.kafka())
            .httpPort(ServiceWiring.freePort())
            .grpcPort(grpcPort)
            .properties();
    }

    @BeforeAll
    void connect() {
        channel = ServiceCredentials.channel("127.0.0.1:" + grpcPort, ServiceWiring.SERVICE_SECRET, "test").build();
        Properties p = new Properties();
        p.putAll(TestServers.kafka().clientProperties());
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        tap = new RecordEventTap(TestServers.kafka());
    }

    @AfterAll
    void disconnect() {
        channel.shutdownNow();
        producer.close();
        tap.close();
    }

    protected SchemaEvents newTenant(String prefix) {
        return new SchemaEvents(producer, db, prefix + "-" + UUID.randomUUID().toString().substring(0, 8)).provision();
    }

    protected RecordServiceGrpc.RecordServiceBlockingStub api(String tenant) {
        Metadata md = new Metadata();
        md.put(Tenants.METADATA_KEY, tenant);
        return RecordServiceGrpc.newBlockingStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
            .withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    protected Record create(SchemaEvents s, SchemaEvents.Table t, Object... nameValue) {
        CreateRecordRequest.Builder r = CreateRecordRequest.newBuilder().setTableId(t.id());
        for (int i = 0; i < nameValue.length; i += 2) {
            r.putValues(t.col((String) nameValue[i]), (Value) nameValue[i + 1]);
        }
        return api(s.tenant()).createRecord(r.build());
    }

    protected Record get(SchemaEvents s, SchemaEvents.Table t, long id) {
        return api(s.tenant()).getRecord(GetRecordRequest.newBuilder().setTableId(t.id()).setRecordId(id).build());
    }

    protected static Value text(String v) {
        return Value.newBuilder().setText(v).build();
    }

    protected static Value integer(long v) {
        return Value.newBuilder().setInteger(v).build();
    }

    protected static Value duration(String v) {
        return Value.newBuilder().setDuration(v).build();
    }

    protected static Value nil() {
        return Value.newBuilder().setNullValue(com.google.protobuf.NullValue.NULL_VALUE).build();
    }

    /** The API error code of a failed call. */
    protected static ErrorInfo failure(Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        return ApiException.infoOf(e);
    }

    /** The data type PostgreSQL itself reports for a column (e.g. "bigint", "interval"). */
    protected String sqlType(SchemaEvents s, SchemaEvents.Table t, String column) {
        return db.read(c -> {
            try (PreparedStatement q = c.prepareStatement("SELECT data_type FROM information_schema.columns "
                + "WHERE table_schema = ? AND table_name = ? AND column_name = ?")) {
                q.setString(1, PhysicalNames.schema(s.tenant()));
                q.setString(2, PhysicalNames.table(t.id()));
                q.setString(3, PhysicalNames.column(t.col(column)));
                try (ResultSet rs = q.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        });
    }

    /** The real foreign keys of a table: constraint name -> definition, from pg_constraint. */
    protected Map<String, String> foreignKeys(SchemaEvents s, SchemaEvents.Table t) {
        return db.read(c -> {
            Map<String, String> fks = new HashMap<>();
            try (PreparedStatement q = c.prepareStatement("SELECT conname, pg_get_constraintdef(oid), convalidated "
                + "FROM pg_constraint WHERE contype = 'f' AND conrelid = to_regclass(?)")) {
                q.setString(1, PhysicalNames.qualified(s.tenant(), t.id()));
                try (ResultSet rs = q.executeQuery()) {
                    while (rs.next()) {
                        assertThat(rs.getBoolean(3)).as("validated").isTrue();
                        fks.put(rs.getString(1), rs.getString(2));
                    }
                }
            }
            return fks;
        });
    }

    protected long count(String sql) {
        return db.read(c -> {
            try (ResultSet rs = c.createStatement().executeQuery(sql)) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }
}
