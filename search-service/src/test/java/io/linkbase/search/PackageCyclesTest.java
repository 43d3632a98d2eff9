package io.linkbase.search;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/** search-service's packages depend on each other in one direction only: a new cycle fails the build. */
class PackageCyclesTest {
    @Test
    void packagesAreFreeOfCycles() {
        JavaClasses classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.linkbase.search");
        slices().matching("io.linkbase.search.(*)..").should().beFreeOfCycles().check(classes);
    }
}
