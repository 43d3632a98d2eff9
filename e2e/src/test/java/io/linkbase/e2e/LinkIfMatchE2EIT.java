package io.linkbase.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.UUID;

import static io.linkbase.e2e.UserStoryHttpE2EIT.column;
import static io.linkbase.e2e.UserStoryHttpE2EIT.columnId;
import static io.linkbase.e2e.UserStoryHttpE2EIT.created;
import static io.linkbase.e2e.UserStoryHttpE2EIT.ok;
import static org.assertj.core.api.Assertions.assertThat;

/** Link writes honour {@code If-Match} like every other schema write (API.md "Schema writes accept If-Match"). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LinkIfMatchE2EIT {
    private Api owner;

    @BeforeAll
    void provision() {
        String tenant = "ifmatch-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(new Api(Stack.adminToken()).put("/api/v1/tenants/" + tenant, null).status()).isEqualTo(201);
        owner = new Api(Stack.token(tenant, "owner"));
    }

    @Test
    void linkWritesHonourIfMatch() {
        JsonNode a = created(owner.post("/api/v1/tables", "{\"name\":\"label\",\"columns\":[{\"name\":\"Name\"}]}"));
        JsonNode b = created(owner.post("/api/v1/tables", "{\"name\":\"album\",\"columns\":[{\"name\":\"Label\"}]}"));
        String target = a.get("id").asText();
        String table = b.get("id").asText();
        String col = columnId(b, "Label");
        long version = b.get("version").asLong();
        String path = "/api/v1/tables/" + table + "/columns/" + col + "/link";
        String body = "{\"targetTableId\":\"" + target + "\"}";

        // A stale version: 409 version_conflict, and no link.
        ok(owner.patch("/api/v1/tables/" + table + "/columns/" + col, "{\"name\":\"Label name\"}"));
        Api.Response stale = owner.send("PUT", path, body, "\"" + version + "\"");
        assertThat(stale.status()).as(stale.toString()).isEqualTo(409);
        assertThat(stale.code()).isEqualTo("version_conflict");
        assertThat(owner.get(path).status()).isEqualTo(404);
        assertThat(column(ok(owner.get("/api/v1/tables/" + table)), col).get("type").asText()).isEqualTo("text");

        // The current version: linked.
        long current = ok(owner.get("/api/v1/tables/" + table)).get("version").asLong();
        Api.Response linked = owner.send("PUT", path, body, "\"" + current + "\"");
        assertThat(linked.status()).as(linked.toString()).isEqualTo(202);

        // Unlink with the version from before the link: refused, the link stays; then with the new one.
        Api.Response staleUnlink = owner.send("DELETE", path, null, "\"" + current + "\"");
        assertThat(staleUnlink.status()).as(staleUnlink.toString()).isEqualTo(409);
        assertThat(staleUnlink.code()).isEqualTo("version_conflict");
        assertThat(owner.get(path).status()).isEqualTo(200);
        Api.Response unlinked = owner.send("DELETE", path, null, "\"" + (current + 1) + "\"");
        assertThat(unlinked.status()).as(unlinked.toString()).isEqualTo(202);
        assertThat(owner.get(path).status()).isEqualTo(404);
    }
}
