package io.linkbase.devstack.arch;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;

import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The package rules every service's tests check over its main classes (docs/decisions.md
 * "Packages"): no cycles between packages, and a class public only when another package of the
 * service uses it. ArchUnit is optional here: a service's tests bring their own
 * ({@code archunit-junit5}).
 */
public final class PackageRules {
    private PackageRules() {
    }

    /** The service's packages ({@code <servicePackage>.<one>..}) import each other without cycles. */
    public static ArchRule noCycles(String servicePackage) {
        return slices().matching(servicePackage + ".(*)..").should().beFreeOfCycles();
    }

    /**
     * Every public top-level class is used from another package of the service: a dependency of
     * any kind (a call, a field, a type in a signature, an annotation) on it or on one of its
     * nested classes. Not checked: a class with a {@code main} method (started by the JVM), a class
     * Micronaut generates ({@code $...}, public by its design), and those named in {@code exempt}
     * (class name → why it must be public). Only main classes are imported: a use by a test in
     * another package does not count.
     */
    public static ArchRule publicOnlyAcrossPackages(Map<String, String> exempt) {
        return classes().should(new UsedFromAnotherPackage(exempt))
            .because("a class only its own package uses is package-private (docs/decisions.md \"Packages\")");
    }

    private static final class UsedFromAnotherPackage extends ArchCondition<JavaClass> {
        private final Map<String, String> exempt;
        private final Set<String> usedAcross = new HashSet<>();
        private final Set<String> exemptSeen = new HashSet<>();

        UsedFromAnotherPackage(Map<String, String> exempt) {
            super("be public only when used from another package of the service");
            this.exempt = exempt;
        }

        @Override
        public void init(Collection<JavaClass> all) {
            usedAcross.clear();
            exemptSeen.clear();
            for (JavaClass c : all) {
                for (Dependency d : c.getDirectDependenciesToSelf()) {
                    if (!d.getOriginClass().getPackageName().equals(c.getPackageName())) {
                        usedAcross.add(topLevel(c).getName());
                    }
                }
            }
        }

        @Override
        public void check(JavaClass c, ConditionEvents events) {
            if (exempt.containsKey(c.getName())) {
                exemptSeen.add(c.getName());
                if (!c.getModifiers().contains(JavaModifier.PUBLIC) || usedAcross.contains(c.getName())) {
                    events.add(SimpleConditionEvent.violated(c, c.getName() + " is exempt (" + exempt.get(c.getName())
                        + ") but no longer needs to be: take it off the list"));
                }
                return;
            }
            if (!c.isTopLevelClass() || !c.getModifiers().contains(JavaModifier.PUBLIC)
                || c.getName().startsWith(c.getPackageName() + ".$") || c.tryGetMethod("main", String[].class).isPresent()) {
                return;
            }
            if (!usedAcross.contains(c.getName())) {
                events.add(SimpleConditionEvent.violated(c, "public class " + c.getName()
                    + " is used only in its own package " + c.getPackageName() + ": make it package-private"));
            }
        }

        @Override
        public void finish(ConditionEvents events) {
            for (String name : exempt.keySet()) {
                if (!exemptSeen.contains(name)) {
                    events.add(SimpleConditionEvent.violated(name, "exempt class " + name + " does not exist"));
                }
            }
        }

        private static JavaClass topLevel(JavaClass c) {
            JavaClass top = c;
            while (top.getEnclosingClass().isPresent()) {
                top = top.getEnclosingClass().get();
            }
            return top;
        }
    }
}
