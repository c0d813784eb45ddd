"""Seller networks in the review app: a page per network (its listings, accounts, contacts, platforms,
countries, months and a small graph of the links). Contacts are personal data: every page needs a login."""
from __future__ import annotations

import math

from fastapi import Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from wildwatch.contacts import KINDS
from wildwatch.evidence.store import open_store
from wildwatch.networks import queries
from wildwatch.referrals import build, package

MAX_DRAWN = 40  # more listings than this make an unreadable picture: the table says the rest


def contact_label(contact: dict) -> str:
    return f"{KINDS.get(contact['kind'], contact['kind'])} {contact['value']}"


def graph(members: list[dict], links: list[dict], size: int = 360) -> dict:
    """Positions for a small picture: listings on a circle, coloured by platform; a line per shared key.
    Plain numbers for the template (drawn as inline SVG, no script)."""
    drawn = members[:MAX_DRAWN]
    # The listings table numbers the members; the picture and the reasons use the same numbers.
    numbers = {m["id"]: i for i, m in enumerate(members, start=1)}
    centre, radius = size / 2, size / 2 - 30
    at = {}
    nodes = []
    platforms = sorted({m["site"] for m in drawn})
    for i, m in enumerate(drawn):
        angle = 2 * math.pi * i / max(len(drawn), 1) - math.pi / 2
        x, y = centre + radius * math.cos(angle), centre + radius * math.sin(angle)
        at[m["id"]] = (round(x, 1), round(y, 1))
        nodes.append({"x": at[m["id"]][0], "y": at[m["id"]][1], "id": m["id"], "site": m["site"],
                      "number": numbers[m["id"]], "title": m.get("title") or "",
                      "colour": platforms.index(m["site"]) % 6, "confirmed": m["decision"] == "confirmed"})
    edges = []
    for link in links:
        ids = [i for i in link["listing_ids"] if i in at]
        for other in ids[1:]:  # a star from the first listing that has the key
            edges.append({"x1": at[ids[0]][0], "y1": at[ids[0]][1], "x2": at[other][0], "y2": at[other][1],
                          "kind": link["link_key"].split(":", 1)[0]})
    return {"size": size, "nodes": nodes, "edges": edges, "platforms": platforms, "hidden": len(members) - len(drawn),
            "numbers": numbers}


def add(app, *, user, supervisor, csrf, connection, render, evidence_store, referrals_dir) -> None:
    @app.get("/network/{network_id}", response_class=HTMLResponse)
    def show_network(request: Request, network_id: int, current=Depends(user)):
        with connection() as conn:
            found = queries.network(conn, network_id)
        if found is None:
            raise HTTPException(status_code=404)
        if found["id"] != network_id:  # merged into an older network since the link was made
            return RedirectResponse(f"/network/{found['id']}", status_code=303)
        return render(request, "network.html", network=found, picture=graph(found["members"], found["links"]),
                      contact_label=contact_label)

    @app.post("/network/{network_id}/referral", dependencies=[Depends(csrf)])
    def refer_network(network_id: int, agency: str = Form(...), country: str = Form(...),
                      current=Depends(supervisor)):
        try:
            with connection() as conn:
                referral_id = build.create_for_network(conn, network_id, agency, country, current["name"])
                package.build_package(conn, referral_id, open_store(evidence_store), referrals_dir)
        except build.ReferralError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        return RedirectResponse(f"/referrals/{referral_id}", status_code=303)

    @app.get("/networks", response_class=HTMLResponse)
    def list_networks(request: Request, current=Depends(user)):
        with connection() as conn:
            rows = queries.list_networks(conn, 2, limit=200)
        return render(request, "networks.html", networks=rows)
