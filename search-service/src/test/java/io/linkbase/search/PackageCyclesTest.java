package io.linkbase.search;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import io.linkbase.devstack.arch.PackageRules;
import org.junit.jupiter.api.Test;

import java.util.Map;

/**
 * search-service's packages depend on each other in one direction only: a new cycle fails the
 * build; and a class is public only when another package uses it (docs/decisions.md "Packages").
 */
class PackageCyclesTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.linkbase.search");

    @Test
    void packagesAreFreeOfCycles() {
        PackageRules.noCycles("io.linkbase.search").check(CLASSES);
    }

    /** The classes that stay public although no other package of the main code uses them, and why. */
    @Test
    void classesArePublicOnlyAcrossPackages() {
        String bean = "a bean Micronaut builds; ";
        PackageRules.publicOnlyAcrossPackages(Map.of(
            "io.linkbase.search.autocomplete.SearchGrpcService", bean + "SearchServiceIT calls it in-process",
            "io.linkbase.search.recordevents.RecordEventFollower", bean + "RecordLanesIT reads its consumer's progress",
            "io.linkbase.search.opensearch.OpenSearchFactory",
            bean + "MappingMigrationIT and AutocompleteBenchmarkIT build their transports with it",
            "io.linkbase.search.index.RecordsIndex",
            "its ALIAS and MAPPING_VERSION name the index SearchServiceIT, RecordLanesIT and MappingMigrationIT read",
            "io.linkbase.search.autocomplete.Suggester",
            "MappingMigrationIT and AutocompleteBenchmarkIT send the very queries it builds"
        )).check(CLASSES);
    }
}
