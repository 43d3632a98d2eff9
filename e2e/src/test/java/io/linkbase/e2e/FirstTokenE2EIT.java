package io.linkbase.e2e;

import io.linkbase.devstack.ModuleProcess;
import io.linkbase.devstack.Tokens;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.linkbase.e2e.UserStoryHttpE2EIT.created;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A team's first steps with nothing but the gateway's secret (issue 17, docs/operations.md
 * "Tokens"): {@code bin/linkbase token} mints a platform-admin token, which provisions a tenant,
 * then an owner token for it, which creates a table; tokens the gateway must not honour are refused.
 */
class FirstTokenE2EIT {
    @Test
    void binLinkbaseTokenGetsATeamFromNothingToItsFirstTable() throws Exception {
        Stack.services();
        String tenant = "first-" + UUID.randomUUID().toString().substring(0, 8);

        Api admin = new Api(binLinkbaseToken("--tenant", "platform", "--role", "platform-admin", "--expires", "1h"));
        assertThat(admin.put("/api/v1/tenants/" + tenant, null).status()).isEqualTo(201);

        Api owner = new Api(binLinkbaseToken("--tenant", tenant, "--role", "owner", "--sub", "ada"));
        created(owner.post("/api/v1/tables", "{\"name\":\"Artists\",\"columns\":[{\"name\":\"name\",\"type\":\"text\"}]}"));
        assertThat(owner.get("/api/v1/tables").body().path("tables")).hasSize(1);
    }

    @Test
    void tokensLivingLongerThanTheGatewayAllowsOrSignedOtherwiseAreRefused() {
        Stack.services();
        String tooLong = Tokens.hs256(Stack.JWT_SECRET, "ada", "platform", List.of("platform-admin"), Duration.ofDays(32));
        Api.Response r = new Api(tooLong).get("/api/v1/tables");
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.body().path("detail").asText()).contains("lifetime");
        String otherSecret = Tokens.hs256("another-secret-another-secret-000000", "ada", "platform",
            List.of("platform-admin"), Duration.ofHours(1));
        assertThat(new Api(otherSecret).get("/api/v1/tables").status()).isEqualTo(401);
    }

    /** Runs {@code bin/linkbase token ...} as a user would, with the gateway's secret in the environment. */
    private static String binLinkbaseToken(String... args) throws Exception {
        Path root = ModuleProcess.repoRoot();
        List<String> command = new ArrayList<>(List.of("bash", root.resolve("bin/linkbase").toString(), "token"));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(root.toFile()).redirectErrorStream(false);
        pb.environment().put("LINKBASE_JWT_SECRET", Stack.JWT_SECRET);
        Process p = pb.start();
        try {
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("bin/linkbase token finished").isTrue();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as("exit code; stderr: " + err).isZero();
            assertThat(out).as("one JWT").matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");
            return out;
        } finally {
            p.destroyForcibly();
        }
    }
}
