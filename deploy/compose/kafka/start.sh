#!/bin/sh
# Kafka for docker-compose: one KRaft node whose client listener takes only SASL/SCRAM-SHA-512
# logins (user "linkbase", password LINKBASE_KAFKA_PASSWORD). KRaft keeps SCRAM users in its
# metadata, so the user is added when the storage is first formatted (kafka-storage --add-scram).
# Every KAFKA_* variable becomes a broker setting the way the apache/kafka image maps them
# (KAFKA_LOG_DIRS -> log.dirs; "__" -> "_", "___" -> "-").
set -eu
: "${LINKBASE_KAFKA_PASSWORD:?set LINKBASE_KAFKA_PASSWORD}"
props=/tmp/server.properties
client=/tmp/client.properties
env | grep '^KAFKA_' | grep -v -e '^KAFKA_HEAP_OPTS=' -e '^KAFKA_OPTS=' -e '^KAFKA_JVM_PERFORMANCE_OPTS=' \
    -e '^KAFKA_LOG4J_OPTS=' -e '^KAFKA_CLUSTER_ID=' | while IFS='=' read -r name value; do
  key=$(echo "${name#KAFKA_}" | tr 'A-Z' 'a-z' | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g')
  echo "$key=$value"
done > "$props"
jaas="org.apache.kafka.common.security.scram.ScramLoginModule required username=\"linkbase\" password=\"$LINKBASE_KAFKA_PASSWORD\";"
echo "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=$jaas" >> "$props"
# for the health check (kafka-broker-api-versions.sh --command-config)
printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=%s\n' "$jaas" > "$client"
chmod 600 "$props" "$client"
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --config "$props" \
  --cluster-id "${KAFKA_CLUSTER_ID:-$(/opt/kafka/bin/kafka-storage.sh random-uuid)}" \
  --add-scram "SCRAM-SHA-512=[name=linkbase,password=$LINKBASE_KAFKA_PASSWORD]"
exec /opt/kafka/bin/kafka-server-start.sh "$props"
