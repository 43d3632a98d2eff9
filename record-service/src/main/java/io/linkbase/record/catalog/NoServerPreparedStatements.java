package io.linkbase.record.catalog;

import io.micronaut.configuration.jdbc.hikari.DatasourceConfiguration;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import jakarta.inject.Singleton;

/**
 * No server-side prepared statements in record-service (pgjdbc {@code prepareThreshold=0}): a link
 * or a retype changes a column's type, and a plan the driver had prepared for an
 * {@code UPDATE … RETURNING} on that table then fails the next write on that connection inside its
 * transaction ("cached plan must not change result type", 0A000), after which the pool even drops
 * the connection. Our statements are short and built per table; parsing each costs microseconds.
 * (Set here, not in application.yml: configuration keys are normalized, the driver's are not.)
 */
@Singleton
class NoServerPreparedStatements implements BeanCreatedEventListener<DatasourceConfiguration> {
    @Override
    public DatasourceConfiguration onCreated(BeanCreatedEvent<DatasourceConfiguration> event) {
        DatasourceConfiguration config = event.getBean();
        config.addDataSourceProperty("prepareThreshold", "0");
        return config;
    }
}
