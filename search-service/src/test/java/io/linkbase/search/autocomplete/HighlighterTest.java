package io.linkbase.search.autocomplete;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HighlighterTest {
    @Test
    void marksTheMatchedPrefixOfEachWordOnTheOriginalText() {
        assertThat(Highlighter.highlight("Motörhead", Highlighter.words("motor"))).isEqualTo("<em>Motör</em>head");
        assertThat(Highlighter.highlight("Beyoncé Knowles", Highlighter.words("BEYONCE kn")))
            .isEqualTo("<em>Beyoncé</em> <em>Kn</em>owles");
        assertThat(Highlighter.highlight("Straße", Highlighter.words("strass"))).isEqualTo("<em>Straß</em>e");
    }

    @Test
    void escapesTheRestAndLeavesUnmatchedWordsAlone() {
        assertThat(Highlighter.highlight("<b>Tom & Jerry</b>", Highlighter.words("jer")))
            .isEqualTo("&lt;b&gt;Tom &amp; <em>Jer</em>ry&lt;/b&gt;");
        assertThat(Highlighter.highlight("Abba", List.of())).isEqualTo("Abba");
    }

    @Test
    void foldsCaseAndAccentsLikeTheIndex() {
        assertThat(Highlighter.words("  Àlex,  Sigur-Rós ")).containsExactly("alex", "sigur", "ros");
        assertThat(Highlighter.fold("The  BEATLES")).isEqualTo("the beatles");
    }
}
