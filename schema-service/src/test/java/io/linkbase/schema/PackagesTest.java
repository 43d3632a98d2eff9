package io.linkbase.schema;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import io.linkbase.devstack.arch.PackageRules;

import java.util.Map;

/**
 * schema-service's packages import each other without cycles, and a class is public only when
 * another package uses it (docs/decisions.md "Packages").
 */
@AnalyzeClasses(packages = "io.linkbase.schema", importOptions = ImportOption.DoNotIncludeTests.class)
class PackagesTest {
    @ArchTest
    static final ArchRule NO_CYCLES = PackageRules.noCycles("io.linkbase.schema");

    /** The classes that stay public although no other package of the main code uses them, and why. */
    @ArchTest
    static final ArchRule PUBLIC_ONLY_ACROSS_PACKAGES = PackageRules.publicOnlyAcrossPackages(Map.of(
        "io.linkbase.schema.store.EventStore", "EventSpineIT (spine/) replays the stored events to check the read models",
        "io.linkbase.schema.store.TableViews", "EventSpineIT (spine/) compares the read model with the replayed state"));
}
