"""axe-core (devtools.axe, installed by `make test`) on every page, in headless Chromium:
no serious or critical violation (WCAG 2.1 A and AA rules)."""

from __future__ import annotations

import pytest

from devtools.axe import script_path
from web.tests.test_layout import PAGES, content  # noqa: F401 - the pages' data

SEVERE = {"serious", "critical"}


def violations(page) -> list[str]:
    # Evaluated, not added as an inline <script>: the portal's CSP (script-src 'self') refuses it.
    page.evaluate(script_path().read_text())
    found = page.evaluate(
        """async () => {
            const result = await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
            });
            return result.violations.map(v => ({
                id: v.id, impact: v.impact,
                targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
            }));
        }"""
    )
    return [f"{v['id']} ({v['impact']}): {v['targets']}" for v in found if v["impact"] in SEVERE]


@pytest.mark.django_db(transaction=True)
def test_no_page_has_a_serious_accessibility_violation(page, browser_login, admin, content):  # noqa: F811
    page.goto("/accounts/login/")
    problems = {"/accounts/login/": violations(page)}
    browser_login(admin)
    for path in PAGES:
        response = page.goto(path.format(**content["ids"]))
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        problems[path] = violations(page)

    assert {path: found for path, found in problems.items() if found} == {}


@pytest.mark.django_db(transaction=True)
def test_a_form_error_after_an_htmx_swap_is_announced_and_focused(page, browser_login, admin):
    browser_login(admin)
    page.goto("/patients/new/")
    page.fill("input[name=external_id]", "")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_selector(".has-error")

    field = page.locator(".has-error input, .has-error select, .has-error textarea").first
    described = field.get_attribute("aria-describedby") or ""
    assert described and all(page.locator(f"#{i}").count() == 1 for i in described.split())
    assert page.evaluate("document.activeElement.name") == field.get_attribute("name")


@pytest.mark.django_db(transaction=True)
def test_the_check_does_find_a_violation(page):
    """The check above is only worth something if it sees one: an image without any text."""
    page.goto("/accounts/login/")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=x>')")

    assert any(v.startswith("image-alt (critical)") for v in violations(page))
