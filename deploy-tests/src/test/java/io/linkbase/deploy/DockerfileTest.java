package io.linkbase.deploy;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The image recipe: multi-stage, exact base versions, non-root, health-checked. */
class DockerfileTest {
    private static final Pattern ARG_DEFAULT = Pattern.compile("(?m)^ARG\\s+(\\w+)=(\\S+)");
    private static final Pattern FROM = Pattern.compile("(?m)^FROM\\s+(\\S+)");

    private static String dockerfile() throws IOException {
        return Files.readString(Tools.repoRoot().resolve("deploy/docker/Dockerfile"));
    }

    private static List<String> baseImages(String text) {
        Map<String, String> args = new java.util.HashMap<>();
        Matcher a = ARG_DEFAULT.matcher(text);
        while (a.find()) {
            args.put(a.group(1), a.group(2));
        }
        List<String> images = new ArrayList<>();
        Matcher f = FROM.matcher(text);
        while (f.find()) {
            String image = f.group(1);
            Matcher ref = Pattern.compile("^\\$\\{(\\w+)}$").matcher(image);
            images.add(ref.matches() ? args.get(ref.group(1)) : image);
        }
        return images;
    }

    @Test
    void buildsInOneStageAndRunsOnAPinnedJre() throws IOException {
        List<String> images = baseImages(dockerfile());
        assertThat(images).as("multi-stage").hasSizeGreaterThanOrEqualTo(2);
        for (String image : images) {
            assertThat(Images.isPinned(image)).as("base image " + image + " pinned to an exact version").isTrue();
        }
        assertThat(images.get(images.size() - 1)).as("runtime stage is a JRE").contains("-jre");
    }

    @Test
    void runsAsANumericNonRootUser() throws IOException {
        String text = dockerfile();
        String runtimeStage = text.substring(text.lastIndexOf("\nFROM "));
        Matcher user = Pattern.compile("(?m)^USER\\s+(\\S+)").matcher(runtimeStage);
        String last = null;
        while (user.find()) {
            last = user.group(1);
        }
        assertThat(last).as("USER in the runtime stage").isNotNull().matches("[1-9][0-9]*(:[1-9][0-9]*)?");
    }

    @Test
    void checksItsOwnHealth() throws IOException {
        String runtimeStage = dockerfile().substring(dockerfile().lastIndexOf("\nFROM "));
        assertThat(runtimeStage).containsPattern("(?m)^HEALTHCHECK .*").contains("/health");
    }
}
