package io.linkbase.record;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import io.linkbase.devstack.arch.PackageRules;

import java.util.Map;

/**
 * record-service's packages import each other without cycles, and a class is public only when
 * another package uses it (docs/decisions.md "Packages").
 */
@AnalyzeClasses(packages = "io.linkbase.record", importOptions = ImportOption.DoNotIncludeTests.class)
class PackagesTest {
    @ArchTest
    static final ArchRule NO_CYCLES = PackageRules.noCycles("io.linkbase.record");

    /** The classes that stay public although no other package of the main code uses them, and why. */
    @ArchTest
    static final ArchRule PUBLIC_ONLY_ACROSS_PACKAGES = PackageRules.publicOnlyAcrossPackages(Map.of(
        "io.linkbase.record.ddl.SchemaEventApplier",
        "a bean Micronaut starts; the tests in reconcile/ and support/ apply schema events through it"));
}
