"""General tool-calling training data: hundreds of tools from everyday domains, built in code and seeded.

The course's own data (:mod:`edgeagents.finetune.data`) teaches eight business tools by
heart. This module teaches the *skill*: read a tool list the model has never seen, pick the tool
that fits (or none), and fill its arguments from the request. Tools are built compositionally,
domain × action × parameters, so there are hundreds of distinct names and schemas:

- parameter types: string, integer, number, boolean, enum, array of strings, nested object;
- optional parameters, most with a ``default``: a call leaves them out unless the request sets them;
- values copied or converted from the request: names and quoted notes copied, "3 March 2026" ->
  ``"2026-03-03"``, "6:30 pm" -> ``"18:30"``, "2.5 kg" -> ``2.5``, "1.5 hours" -> ``90`` minutes,
  "wifi, parking and a cot" -> an array.

Families (the ``kind`` of :func:`build`, which :func:`edgeagents.finetune.data.generate` wraps):

- ``gen_single``: one tool offered and needed -> the call, its result, an answer read from the result;
- ``gen_choose``: 2-5 tools offered (often the same domain's other actions), one fits -> as above;
- ``gen_none``: tools offered, none fits -> an answer (small arithmetic) or a plain "I cannot do that here";
- ``gen_ask``: the request lacks a required value -> ask for it, no call;
- ``gen_multi``: several turns: ask, get the value, call; or one call answered, then a second request.

Replies use the course chat format through the same renderer as every other example (Hermes
``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``). The held-out set of unseen tools
(``edgeagents/data/heldout_unseen_tools.jsonl``) uses other domains, names, parameters and
phrasings; ``tests/test_tooldata.py`` checks that the two stay apart.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from edgeagents.errors import InvalidRequestError
from edgeagents.runtimes.base import Message, ToolSpec

KINDS = ("gen_single", "gen_choose", "gen_none", "gen_ask", "gen_multi")

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
FIRST = ["Mia", "Omar", "Lena", "Tomas", "Aisha", "Jonas", "Priya", "Diego", "Elif", "Noah", "Sara", "Ivan",
         "Chen", "Laura", "Kofi", "Anna", "Yusuf", "Marta", "Ben", "Nadia", "Hugo", "Ines", "Ravi", "Zoe"]
LAST = ["Berg", "Silva", "Novak", "Kaya", "Ito", "Moreau", "Olsen", "Rossi", "Keller", "Haddad", "Lund", "Ortega"]
PLACES = ["Northgate", "Riverside", "Old Town", "Harbour", "Parkview", "Hillcrest", "Station Road", "Lakeside"]

Sampler = Callable[[random.Random], tuple[Any, str]]
"""``rng -> (value, the words a user writes for it)``."""


@dataclass(frozen=True)
class Param:
    """One parameter: its schema, how a user phrases a value, and how the assistant asks for it."""

    name: str
    schema: dict[str, Any]
    sample: Sampler
    ask: str


def _fmt(rng: random.Random, phrases: list[str], shown: str) -> str:
    return rng.choice(phrases).format(v=shown)


def person(name: str, ask: str, phrases: list[str]) -> Param:
    def sample(rng: random.Random) -> tuple[Any, str]:
        v = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        return v, _fmt(rng, phrases, v)
    return Param(name, {"type": "string", "description": ask.capitalize() + "."}, sample, ask)


def text(name: str, ask: str, pool: list[str], phrases: list[str]) -> Param:
    def sample(rng: random.Random) -> tuple[Any, str]:
        v = rng.choice(pool)
        return v, _fmt(rng, phrases, v)
    return Param(name, {"type": "string", "description": ask.capitalize() + "."}, sample, ask)


def day(name: str, ask: str, phrases: list[str]) -> Param:
    def sample(rng: random.Random) -> tuple[Any, str]:
        m, d = rng.randint(1, 12), rng.randint(1, 28)
        iso = f"2026-{m:02d}-{d:02d}"
        shown = rng.choice([iso, f"{d} {MONTHS[m - 1]} 2026", f"{MONTHS[m - 1]} {d}, 2026", f"{d} {MONTHS[m - 1][:3]} 2026"])
        return iso, _fmt(rng, phrases, shown)
    return Param(name, {"type": "string", "description": ask.capitalize() + ", as YYYY-MM-DD."}, sample, ask)


def clock(name: str, ask: str, phrases: list[str]) -> Param:
    def sample(rng: random.Random) -> tuple[Any, str]:
        h, m = rng.randint(7, 21), rng.choice([0, 15, 30, 45])
        twelve = f"{h % 12 or 12}:{m:02d} {'am' if h < 12 else 'pm'}" if m else f"{h % 12 or 12} {'am' if h < 12 else 'pm'}"
        return f"{h:02d}:{m:02d}", _fmt(rng, phrases, rng.choice([f"{h:02d}:{m:02d}", twelve]))
    return Param(name, {"type": "string", "description": ask.capitalize() + ", as HH:MM (24 h)."}, sample, ask)


def count(name: str, ask: str, lo: int, hi: int, phrases: list[str], default: int | None = None) -> Param:
    def sample(rng: random.Random) -> tuple[Any, str]:
        v = rng.randint(lo, hi)
        return v, _fmt(rng, phrases, str(v))
    schema: dict[str, Any] = {"type": "integer", "description": ask.capitalize() + ".", "minimum": lo, "maximum": hi}
    if default is not None:
        schema["default"] = default
    return Param(name, schema, sample, ask)


def amount(name: str, ask: str, lo: float, hi: float, units: list[str], decimals: int = 1) -> Param:
    """A number a user writes with its unit ("2.5 kg", "€120"): the call carries the bare number."""
    def sample(rng: random.Random) -> tuple[Any, str]:
        v = round(rng.uniform(lo, hi), rng.choice([0, decimals]))
        v = int(v) if float(v).is_integer() else v
        return v, rng.choice(units).format(v=v)
    return Param(name, {"type": "number", "description": ask.capitalize() + "."}, sample, ask)


def minutes(name: str, ask: str, phrases: list[str]) -> Param:
    """A duration the user may give in hours: the call converts it to minutes."""
    def sample(rng: random.Random) -> tuple[Any, str]:
        v = rng.choice([30, 45, 60, 90, 120, 150, 180])
        hours = v / 60
        shown = rng.choice([f"{v} minutes", f"{hours:g} hours" if v != 60 else "an hour",
                            f"{hours:g} h" if v % 60 == 0 else f"{v} min"])
        return v, _fmt(rng, phrases, shown)
    return Param(name, {"type": "integer", "description": ask.capitalize() + ", in minutes."}, sample, ask)


def flag(name: str, ask: str, yes: list[str], no: list[str], default: bool = False) -> Param:
    def sample(rng: random.Random) -> tuple[Any, str]:
        v = rng.random() < 0.5
        return v, rng.choice(yes if v else no)
    return Param(name, {"type": "boolean", "description": ask.capitalize() + ".", "default": default}, sample, ask)


def choice(name: str, ask: str, values: list[str], phrases: list[str], default: str | None = None) -> Param:
    def sample(rng: random.Random) -> tuple[Any, str]:
        v = rng.choice(values)
        return v, _fmt(rng, phrases, v)
    schema: dict[str, Any] = {"type": "string", "enum": values, "description": ask.capitalize() + "."}
    if default is not None:
        schema["default"] = default
    return Param(name, schema, sample, ask)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def many(name: str, ask: str, pool: list[str], phrases: list[str]) -> Param:
    def sample(rng: random.Random) -> tuple[Any, str]:
        v = rng.sample(pool, rng.randint(1, min(3, len(pool))))
        return v, _fmt(rng, phrases, _join(v))
    schema = {"type": "array", "items": {"type": "string"}, "description": ask.capitalize() + ".", "default": []}
    return Param(name, schema, sample, ask)


def contact(name: str = "contact") -> Param:
    """A nested object: an email (required) and a phone number (optional)."""
    def sample(rng: random.Random) -> tuple[Any, str]:
        first, last = rng.choice(FIRST).lower(), rng.choice(LAST).lower()
        v: dict[str, Any] = {"email": f"{first}.{last}@example.com"}
        if rng.random() < 0.5:
            v["phone"] = f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}"
            return v, rng.choice([f"contact {v['email']} or {v['phone']}", f"reach me at {v['email']}, phone {v['phone']}"])
        return v, rng.choice([f"contact {v['email']}", f"my email is {v['email']}"])
    schema = {"type": "object", "description": "How to reach the customer.",
              "properties": {"email": {"type": "string"}, "phone": {"type": "string"}}, "required": ["email"]}
    return Param(name, schema, sample, "an email address to reach you")


def address(name: str, ask: str) -> Param:
    """A nested object: street, city and postcode, all required."""
    streets = ["12 Elm Street", "4 Mill Lane", "88 Queen's Road", "7 Castle Walk", "31 Bridge Street", "5 Orchard Row"]
    cities = ["Leeds", "Bristol", "York", "Bath", "Derby", "Exeter", "Chester"]

    def sample(rng: random.Random) -> tuple[Any, str]:
        v = {"street": rng.choice(streets), "city": rng.choice(cities),
             "postcode": f"{rng.choice('BLMNSY')}{rng.choice('ERST')}{rng.randint(1, 20)} {rng.randint(1, 9)}{rng.choice('ABDW')}{rng.choice('HJPX')}"}
        return v, f"{rng.choice(['at', 'to', 'address'])} {v['street']}, {v['city']} {v['postcode']}"
    schema = {"type": "object", "description": ask.capitalize() + ".", "required": ["street", "city", "postcode"],
              "properties": {"street": {"type": "string"}, "city": {"type": "string"}, "postcode": {"type": "string"}}}
    return Param(name, schema, sample, ask)


def note(name: str, ask: str, pool: list[str]) -> Param:
    """Free text the user quotes: copied verbatim."""
    return text(name, ask, pool, ['note: "{v}"', 'with the note "{v}"', 'and add "{v}"'])


@dataclass(frozen=True)
class Domain:
    """One everyday domain: the thing it books or tracks and the parameters its tools draw from."""

    name: str
    thing: tuple[str, str, str]  # (snake name, words, id prefix)
    params: list[Param] = field(default_factory=list)


CITY_POOL = ["Leeds", "Bristol", "York", "Bath", "Derby", "Exeter", "Chester", "Norwich", "Oxford", "Brighton"]

DOMAINS: list[Domain] = [
    Domain("hotel", ("hotel_room", "hotel room", "HR"), [
        person("guest_name", "the guest's full name", ["for {v}", "under the name {v}"]),
        day("check_in_date", "the check-in date", ["from {v}", "checking in on {v}"]),
        count("nights", "how many nights", 2, 14, ["for {v} nights", "{v} nights"]),
        count("guests", "the number of guests", 2, 6, ["for {v} guests", "{v} people"], default=2),
        flag("breakfast", "whether breakfast is included", ["with breakfast"], ["without breakfast", "room only"]),
        choice("room_type", "the room type", ["single", "double", "twin", "suite"], ["room type {v}", "as a {v}"]),
        many("extras", "extra services", ["late checkout", "parking", "airport shuttle", "baby cot"], ["with {v}"]),
        text("city", "the city", CITY_POOL, ["in {v}"]),
    ]),
    Domain("gym_classes", ("gym_class", "gym class", "GC"), [
        person("member_name", "the member's name", ["for {v}", "member {v}"]),
        day("class_date", "the date", ["on {v}"]),
        clock("start_time", "the start time", ["at {v}", "starting {v}"]),
        choice("class_type", "the kind of class", ["spinning", "pilates", "boxing", "hiit", "zumba"], ["{v}", "a {v} session"]),
        minutes("duration_minutes", "how long it lasts", ["for {v}", "lasting {v}"]),
        flag("with_trainer", "whether a personal trainer joins", ["with a personal trainer"], ["without a trainer"]),
    ]),
    Domain("gym_memberships", ("gym_membership", "gym membership", "GM"), [
        person("applicant_name", "the new member's name", ["for {v}", "in the name of {v}"]),
        choice("plan", "the membership plan", ["monthly", "quarterly", "yearly"], ["on the {v} plan", "{v} plan"], default="monthly"),
        day("membership_start", "the first day of the membership", ["starting {v}", "from {v}"]),
        flag("pool_access", "whether the pool is included", ["with pool access"], ["no pool"]),
        many("gym_sites", "the gyms it covers", PLACES[:5], ["valid at {v}", "for the {v} gyms"]),
        contact(),
    ]),
    Domain("playlists", ("playlist", "playlist", "PL"), [
        text("playlist_title", "the playlist title", ["Road Trip", "Morning Run", "Focus Beats", "Rainy Sunday", "Party Mix"],
             ['called "{v}"', 'named "{v}"']),
        many("genres", "the genres", ["jazz", "rock", "hip hop", "folk", "techno", "classical"], ["with {v}", "genres {v}"]),
        flag("public", "whether others can see it", ["public", "shared with everyone"], ["private", "just for me"]),
        count("track_count", "how many tracks", 10, 80, ["with {v} tracks", "{v} songs long"]),
        day("release_after", "the earliest release date of the songs", ["with songs released after {v}"]),
    ]),
    Domain("concerts", ("concert_ticket", "concert ticket", "CT"), [
        text("artist", "the artist", ["The Lumineers", "Norah Jones", "Daft Punk", "Adele", "Coldplay"], ["by {v}", "for {v}"]),
        count("tickets", "how many tickets", 2, 8, ["{v} tickets", "for {v} people"], default=1),
        choice("seat_zone", "the seating zone", ["standing", "balcony", "front stalls", "box"], ["in the {v}", "zone {v}"]),
        day("show_date", "the concert date", ["on {v}", "for the show on {v}"]),
    ]),
    Domain("car_workshop", ("car_service", "car service", "CS"), [
        text("licence_plate", "the licence plate", ["AB12 CDE", "KX70 LMN", "YR19 PQS", "LD68 TUV"], ["for plate {v}", "car {v}"]),
        day("service_date", "the service date", ["on {v}"]),
        choice("service_type", "the service type", ["oil change", "full service", "tyre swap", "brake check"], ["a {v}", "for a {v}"]),
        amount("mileage_km", "the mileage in km", 5000, 180000, ["{v} km on the clock", "mileage {v} km"], 0),
        flag("courtesy_car", "whether a courtesy car is needed", ["with a courtesy car", "I need a loan car"], ["no courtesy car needed"]),
        contact(),
    ]),
    Domain("dentist", ("dental_appointment", "dental appointment", "DA"), [
        person("patient_name", "the patient's name", ["for {v}", "patient {v}"]),
        day("appointment_date", "the appointment date", ["on {v}"]),
        clock("appointment_time", "the appointment time", ["at {v}"]),
        choice("treatment", "the treatment", ["check-up", "cleaning", "filling", "whitening"], ["for a {v}", "a {v}"]),
        flag("first_visit", "whether it is the first visit", ["it is my first visit"], ["I have been there before"]),
    ]),
    Domain("flights", ("flight", "flight", "FL"), [
        text("origin", "the departure city", ["Madrid", "Oslo", "Athens", "Dublin", "Vienna", "Lisbon"], ["from {v}"]),
        text("destination", "the arrival city", ["Rome", "Prague", "Helsinki", "Zurich", "Krakow", "Nice"], ["to {v}"]),
        day("departure_date", "the departure date", ["on {v}", "leaving {v}"]),
        count("passengers", "the number of passengers", 2, 6, ["for {v} passengers", "{v} of us"], default=1),
        choice("cabin", "the cabin class", ["economy", "premium", "business"], ["in {v}", "{v} class"], default="economy"),
        amount("max_price_eur", "the highest price in euros", 50, 900, ["under {v} euros", "at most €{v}"], 0),
        flag("direct_only", "whether only direct flights count", ["direct only", "no stopovers"], ["stopovers are fine"]),
        amount("baggage_kg", "the checked baggage weight in kg", 10, 32, ["with {v} kg of luggage", "{v} kg bag"], 1),
    ]),
    Domain("rail", ("train_ticket", "train ticket", "TT"), [
        text("from_station", "the departure station", ["Leeds", "York", "Derby", "Bath"], ["from {v}"]),
        text("to_station", "the arrival station", ["Norwich", "Oxford", "Brighton", "Chester"], ["to {v}"]),
        day("travel_date", "the travel date", ["on {v}"]),
        clock("depart_after", "the earliest departure time", ["after {v}", "leaving after {v}"]),
        flag("return_trip", "whether it is a return ticket", ["return", "there and back"], ["one way", "single journey"]),
        choice("railcard", "the discount card", ["none", "youth", "senior", "family"], ["with a {v} railcard"], default="none"),
    ]),
    Domain("transfers", ("bank_transfer", "bank transfer", "BT"), [
        text("iban", "the recipient's IBAN", ["DE44 5001 0517 5407 3249 31", "FR76 3000 6000 0112 3456 7890 189",
                                                "NL91 ABNA 0417 1643 00"], ["to IBAN {v}", "to account {v}"]),
        amount("amount_eur", "the amount in euros", 5, 2500, ["{v} euros", "€{v}", "EUR {v}"], 2),
        day("execution_date", "the date to send it", ["on {v}", "scheduled for {v}"]),
        note("reference_text", "the payment reference", ["rent March", "invoice 4471", "birthday gift", "shared dinner"]),
        flag("instant", "whether it is sent instantly", ["as an instant transfer"], ["standard speed is fine"]),
    ]),
    Domain("savings", ("savings_account", "savings account", "SA"), [
        person("holder_name", "the account holder's name", ["for {v}", "in the name of {v}"]),
        amount("opening_deposit_eur", "the first deposit in euros", 50, 20000, ["with {v} euros", "opening with €{v}"], 2),
        amount("monthly_saving_eur", "the monthly saving in euros", 10, 900, ["saving {v} euros a month", "€{v} per month"], 0),
        choice("term", "how long the money is fixed", ["flexible", "1 year", "3 years"], ["fixed for {v}", "term {v}"], default="flexible"),
        day("opening_date", "the opening date", ["opened on {v}", "from {v}"]),
    ]),
    Domain("insurance", ("insurance_claim", "insurance claim", "IC"), [
        person("policy_holder", "the policy holder's name", ["for {v}", "policy holder {v}"]),
        day("incident_date", "the date of the incident", ["that happened on {v}", "from {v}"]),
        amount("damage_eur", "the estimated damage in euros", 50, 8000, ["about {v} euros of damage", "damage of €{v}"], 0),
        choice("claim_type", "the kind of claim", ["theft", "water damage", "car accident", "broken glass"], ["for {v}", "about {v}"]),
        flag("police_report", "whether there is a police report", ["I have a police report"], ["there is no police report"]),
        note("description", "what happened", ["the window broke in the storm", "my bike was taken from the shed",
                                              "a pipe burst in the kitchen"]),
    ]),
    Domain("real_estate", ("apartment_viewing", "apartment viewing", "AV"), [
        text("listing_code", "the listing code", ["LX-1021", "LX-3307", "LX-5590", "LX-7742"], ["for listing {v}", "listing {v}"]),
        day("viewing_date", "the viewing date", ["on {v}"]),
        clock("viewing_time", "the viewing time", ["at {v}"]),
        count("bedrooms", "the number of bedrooms", 2, 5, ["with {v} bedrooms", "{v} bedrooms"]),
        amount("max_rent_eur", "the highest monthly rent in euros", 400, 3000, ["up to {v} euros a month", "under €{v} per month"], 0),
        flag("pets_allowed", "whether pets must be allowed", ["pets must be allowed"], ["no pets needed"]),
    ]),
    Domain("restaurant", ("restaurant_table", "restaurant table", "RT"), [
        count("party_size", "how many people", 2, 12, ["for {v}", "for {v} people", "a party of {v}"]),
        day("reservation_date", "the date", ["on {v}"]),
        clock("reservation_time", "the time", ["at {v}"]),
        flag("outdoor", "whether to sit outside", ["on the terrace", "outside"], ["indoors", "inside"]),
        many("dietary_needs", "dietary needs", ["vegan", "gluten free", "nut allergy", "halal"], ["we need {v}", "dietary needs: {v}"]),
        person("booking_name", "the name for the booking", ["under {v}", "name {v}"]),
    ]),
    Domain("taxi", ("taxi_ride", "taxi ride", "TX"), [
        address("pickup", "where to pick you up"),
        text("dropoff", "where to go", ["the airport", "the central station", "the town hall", "the stadium"], ["to {v}"]),
        clock("pickup_time", "the pickup time", ["at {v}"]),
        count("riders", "the number of riders", 2, 6, ["for {v} riders", "{v} of us"], default=1),
        choice("vehicle", "the vehicle size", ["standard", "estate", "minivan"], ["a {v} car", "in a {v}"], default="standard"),
    ]),
    Domain("florist", ("flower_delivery", "flower delivery", "FD"), [
        choice("bouquet", "the bouquet", ["roses", "tulips", "sunflowers", "lilies", "mixed seasonal"], ["of {v}", "a bunch of {v}"]),
        address("delivery_address", "the delivery address"),
        day("delivery_date", "the delivery date", ["on {v}", "for {v}"]),
        note("card_message", "the message on the card", ["Happy birthday, Mum!", "Get well soon", "Congratulations!", "Thank you"]),
        amount("budget_eur", "the budget in euros", 20, 150, ["around {v} euros", "budget €{v}"], 0),
    ]),
    Domain("bakery", ("cake_order", "cake order", "CK"), [
        choice("flavour", "the flavour", ["chocolate", "lemon", "carrot", "red velvet", "vanilla"], ["{v} flavour", "a {v} one"]),
        count("servings", "how many servings", 6, 40, ["for {v} people", "{v} servings"]),
        day("pickup_date", "the pickup date", ["for {v}", "to collect on {v}"]),
        note("inscription", "the writing on the cake", ["Happy 30th Sam", "Welcome home", "Well done Lily"]),
        many("toppings", "the toppings", ["berries", "sprinkles", "candles", "nuts"], ["topped with {v}"]),
    ]),
    Domain("coworking", ("desk_booking", "desk booking", "DB"), [
        day("desk_date", "the date", ["on {v}", "for {v}"]),
        choice("desk_kind", "the kind of desk", ["hot desk", "fixed desk", "private office"], ["a {v}", "as a {v}"]),
        count("seats", "how many seats", 2, 10, ["for {v} people", "{v} seats"], default=1),
        flag("monitor", "whether an extra monitor is needed", ["with a monitor"], ["no monitor needed"]),
        text("site", "the location", PLACES, ["at {v}", "in the {v} space"]),
    ]),
    Domain("photo", ("photo_shoot", "photo shoot", "PS"), [
        choice("shoot_kind", "the kind of shoot", ["portrait", "family", "product", "wedding"], ["a {v} shoot", "for {v} photos"]),
        day("shoot_date", "the date", ["on {v}"]),
        minutes("session_minutes", "how long the session is", ["for {v}", "lasting {v}"]),
        count("edited_photos", "how many edited photos", 5, 60, ["with {v} edited photos", "{v} retouched pictures"], default=10),
        flag("outdoors", "whether it is outdoors", ["outdoors", "outside"], ["in the studio", "indoors"]),
    ]),
    Domain("laundry", ("laundry_pickup", "laundry pickup", "LP"), [
        address("pickup_address", "the pickup address"),
        amount("weight_kg", "the weight in kg", 2, 25, ["{v} kg of laundry", "about {v} kilos"], 1),
        many("services", "the services", ["wash", "dry", "iron", "fold"], ["for {v}", "services {v}"]),
        flag("express", "whether express service is wanted", ["express please", "same day"], ["normal speed"]),
        day("collect_date", "the pickup date", ["on {v}"]),
    ]),
    Domain("cleaning", ("home_cleaning", "home cleaning", "HC"), [
        address("home_address", "the home address"),
        day("cleaning_date", "the date", ["on {v}"]),
        minutes("cleaning_minutes", "how long the cleaning lasts", ["for {v}"]),
        count("rooms", "how many rooms", 2, 9, ["{v} rooms", "for {v} rooms"]),
        flag("bring_supplies", "whether the cleaner brings supplies", ["bring your own supplies"], ["we have supplies"], default=True),
        choice("frequency", "how often", ["once", "weekly", "fortnightly", "monthly"], ["{v}", "on a {v} basis"], default="once"),
    ]),
    Domain("translation", ("translation_job", "translation job", "TJ"), [
        choice("source_lang", "the source language", ["German", "French", "Polish", "Turkish", "Japanese"], ["from {v}"]),
        choice("target_lang", "the target language", ["English", "Spanish", "Dutch", "Italian"], ["into {v}"]),
        count("word_count", "the number of words", 200, 9000, ["{v} words", "about {v} words long"]),
        day("deadline", "the deadline", ["by {v}", "due {v}"]),
        flag("certified", "whether a certified translation is needed", ["it must be certified"], ["no certification needed"]),
    ]),
    Domain("hr", ("leave_request", "leave request", "LR"), [
        person("employee_name", "the employee's name", ["for {v}", "for employee {v}"]),
        day("first_day", "the first day off", ["from {v}", "starting {v}"]),
        count("days", "how many working days", 2, 20, ["for {v} days", "{v} working days"]),
        choice("leave_type", "the kind of leave", ["annual", "sick", "parental", "unpaid"], ["{v} leave", "as {v} leave"]),
        flag("half_day", "whether it starts with a half day", ["starting with a half day"], ["full days only"]),
    ]),
    Domain("moving", ("moving_van", "moving van", "MV"), [
        address("from_address", "the address to move from"),
        text("to_city", "the city to move to", CITY_POOL, ["moving to {v}", "to {v}"]),
        day("move_date", "the moving date", ["on {v}"]),
        amount("volume_m3", "the volume in cubic metres", 5, 60, ["{v} cubic metres", "about {v} m3"], 1),
        count("helpers", "how many helpers", 2, 5, ["with {v} helpers", "{v} movers"], default=2),
        many("fragile_items", "the fragile items", ["piano", "mirror", "glass table", "aquarium", "artwork"], ["including {v}"]),
    ]),
    Domain("camping", ("campsite_pitch", "campsite pitch", "CP"), [
        day("arrival_date", "the arrival date", ["arriving {v}", "from {v}"]),
        count("stay_nights", "how many nights", 2, 10, ["for {v} nights"]),
        choice("pitch_kind", "the kind of pitch", ["tent", "caravan", "campervan"], ["for a {v}", "a {v} pitch"]),
        flag("electric_hookup", "whether an electric hookup is needed", ["with electricity"], ["no electric hookup"]),
        count("campers", "the number of campers", 2, 8, ["for {v} campers", "{v} of us"]),
    ]),
    Domain("ski", ("ski_pass", "ski pass", "SK"), [
        text("resort", "the resort", ["Val Blanc", "Snowridge", "Alpenhof", "Pine Peak"], ["at {v}", "for {v}"]),
        count("pass_days", "how many days", 2, 14, ["for {v} days", "a {v}-day pass"]),
        day("first_ski_day", "the first day", ["from {v}", "starting {v}"]),
        choice("age_group", "the age group", ["adult", "child", "senior"], ["{v}", "for an {v}"], default="adult"),
        flag("insurance", "whether to add slope insurance", ["with slope insurance"], ["no insurance"]),
    ]),
    Domain("boating", ("boat_charter", "boat charter", "BC"), [
        text("marina", "the marina", ["Port Vell", "Marina Bay", "Kings Quay", "Sunset Harbour"], ["from {v}", "at {v}"]),
        day("charter_date", "the charter date", ["on {v}"]),
        minutes("charter_minutes", "how long the charter is", ["for {v}"]),
        count("crew_size", "the number of people on board", 2, 12, ["for {v} people", "{v} on board"]),
        flag("skipper", "whether a skipper is needed", ["with a skipper"], ["we sail ourselves", "no skipper"], default=True),
    ]),
    Domain("spa", ("massage_session", "massage session", "MS"), [
        choice("massage_kind", "the kind of massage", ["swedish", "deep tissue", "hot stone", "sports"], ["a {v} massage", "{v}"]),
        day("session_date", "the date", ["on {v}"]),
        clock("session_time", "the time", ["at {v}"]),
        minutes("massage_minutes", "how long it lasts", ["for {v}"]),
        flag("couples", "whether it is a couples session", ["for a couple"], ["just for one"]),
    ]),
    Domain("salon", ("haircut", "haircut", "HA"), [
        person("client_name", "the client's name", ["for {v}", "name {v}"]),
        day("visit_date", "the date", ["on {v}"]),
        clock("visit_time", "the time", ["at {v}"]),
        many("salon_services", "the services", ["cut", "colour", "blow dry", "beard trim"], ["for {v}", "with {v}"]),
        text("stylist", "the stylist", ["Jess", "Marco", "Leila", "Tom"], ["with {v}", "stylist {v}"]),
    ]),
    Domain("car_rental", ("rental_car", "rental car", "RC"), [
        text("pickup_branch", "the pickup branch", ["the airport desk", "the city centre desk", "the train station desk"], ["from {v}", "at {v}"]),
        day("pickup_day", "the pickup date", ["from {v}", "picking up {v}"]),
        count("rental_days", "how many days", 2, 21, ["for {v} days"]),
        choice("car_class", "the car class", ["mini", "compact", "suv", "van"], ["a {v}", "{v} class"], default="compact"),
        flag("automatic", "whether it is an automatic", ["automatic", "an automatic gearbox"], ["manual", "manual gears"]),
        many("add_ons", "the add-ons", ["child seat", "gps", "roof box", "snow chains"], ["with {v}"]),
    ]),
    Domain("printing", ("print_job", "print job", "PJ"), [
        count("copies", "how many copies", 2, 500, ["{v} copies", "{v} prints"]),
        choice("paper_size", "the paper size", ["A4", "A3", "A5", "letter"], ["on {v}", "in {v}"], default="A4"),
        flag("colour", "whether to print in colour", ["in colour"], ["black and white", "in greyscale"]),
        flag("double_sided", "whether to print on both sides", ["double sided", "both sides"], ["single sided"]),
        day("ready_by", "when it must be ready", ["ready by {v}", "for {v}"]),
    ]),
    Domain("waste", ("bulk_waste_pickup", "bulk waste pickup", "BW"), [
        address("collection_address", "the collection address"),
        many("waste_items", "the items", ["sofa", "mattress", "fridge", "wardrobe", "old tv"], ["for {v}", "items: {v}"]),
        day("collection_date", "the collection date", ["on {v}"]),
        amount("estimated_weight_kg", "the estimated weight in kg", 10, 300, ["about {v} kg", "{v} kilos in total"], 0),
    ]),
    Domain("events", ("event_venue", "event venue", "EV"), [
        choice("event_kind", "the kind of event", ["wedding", "birthday", "conference", "workshop"], ["for a {v}", "a {v}"]),
        count("attendees", "the number of attendees", 10, 300, ["for {v} guests", "{v} attendees"]),
        day("event_date", "the event date", ["on {v}"]),
        amount("budget_total_eur", "the total budget in euros", 500, 20000, ["budget {v} euros", "up to €{v}"], 0),
        flag("catering", "whether catering is needed", ["with catering"], ["no catering"]),
        contact(),
    ]),
    Domain("tutoring", ("tutor_session", "tutor session", "TS"), [
        choice("subject", "the subject", ["maths", "physics", "chemistry", "history", "biology"], ["for {v}", "in {v}"]),
        choice("level", "the level", ["primary", "secondary", "university"], ["at {v} level", "{v}"], default="secondary"),
        day("lesson_date", "the date", ["on {v}"]),
        minutes("lesson_minutes", "how long the lesson is", ["for {v}"]),
        flag("online", "whether it is online", ["online", "over video"], ["in person", "face to face"]),
        person("student_name", "the student's name", ["for {v}", "student {v}"]),
    ]),
]


@dataclass(frozen=True)
class Action:
    """What a tool does with an object: how its name, description, requests and answers are worded."""

    name: str  # name format, e.g. "book_{o}"
    mode: str  # create | by_id | search | update | reschedule | rate
    describe: str
    verbs: list[str]
    says: str  # how the assistant names the action when it asks ("book the hotel room")


ACTIONS = [
    Action("book_{o}", "create", "Book a new {w}.",
           ["Book a {w}", "Please book a {w}", "I'd like to book a {w}", "Can you reserve a {w}", "Set me up with a {w}"],
           "book the {w}"),
    Action("quote_{o}", "create", "Estimate the price of a {w} without booking it.",
           ["How much would a {w} cost", "Give me a price for a {w}", "Get a quote for a {w}", "What's the price of a {w}"],
           "price the {w}"),
    Action("search_{o}", "search", "Search available {w} options.",
           ["Find a {w}", "Search for a {w}", "Are there any {w} options", "Look for a {w}", "Show me {w} options"],
           "search for a {w}"),
    Action("cancel_{o}", "by_id", "Cancel an existing {w} by its id.",
           ["Cancel {w} {id}", "Please cancel my {w} {id}", "I need to cancel the {w} {id}", "Call off {w} {id}"],
           "cancel the {w}"),
    Action("get_{o}", "by_id", "Show the details and status of one {w} by its id.",
           ["What's the status of {w} {id}", "Show me {w} {id}", "Look up {w} {id}", "Any news on my {w} {id}"],
           "look up the {w}"),
    Action("update_{o}", "update", "Change some details of an existing {w}.",
           ["Change {w} {id}", "Update my {w} {id}", "Please edit the {w} {id}", "Modify {w} {id}"],
           "change the {w}"),
    Action("reschedule_{o}", "reschedule", "Move an existing {w} to another date.",
           ["Move {w} {id}", "Reschedule my {w} {id}", "Push the {w} {id}", "Shift {w} {id}"],
           "move the {w}"),
    Action("rate_{o}", "rate", "Rate a past {w} from 1 to 5 stars.",
           ["Rate {w} {id}", "I want to review my {w} {id}", "Leave a rating for {w} {id}", "Score the {w} {id}"],
           "rate the {w}"),
]

STARS = count("stars", "the rating from 1 to 5", 1, 5, ["{v} out of 5", "a {v}/5 rating", "{v}/5"])
COMMENT = note("comment", "a short comment", ["friendly staff", "a bit late", "great value", "would come again"])
REASON = choice("reason", "why it is cancelled", ["change of plans", "illness", "found another option", "bad weather"],
                ["because of {v}", "reason: {v}"])
NOTIFY = flag("notify_me", "whether to send a confirmation email", ["and email me a confirmation"],
              ["no confirmation email needed"], default=True)


@dataclass(frozen=True)
class Tool:
    """One generated tool: its OpenAI spec and how its arguments are split and phrased."""

    name: str
    domain: str
    words: str
    id_prefix: str
    action: Action
    id_param: str | None
    required: tuple[Param, ...]
    optional: tuple[Param, ...]

    @property
    def spec(self) -> ToolSpec:
        props: dict[str, Any] = {}
        if self.id_param:
            props[self.id_param] = {"type": "string", "description": f"The {self.words} id, like {self.id_prefix}-12345."}
        for p in (*self.required, *self.optional):
            props[p.name] = dict(p.schema)
        required = ([self.id_param] if self.id_param else []) + [p.name for p in self.required]
        return {"type": "function", "function": {
            "name": self.name, "description": self.action.describe.format(w=self.words),
            "parameters": {"type": "object", "properties": props, "required": required}}}


def _make_tool(domain: Domain, action: Action) -> Tool:
    snake, words, prefix = domain.thing
    name = action.name.format(o=snake)
    rng = random.Random(name)  # the same schema for a name in every run and every seed
    pool = list(domain.params)
    rng.shuffle(pool)
    id_param = f"{snake}_id" if action.mode in ("by_id", "update", "reschedule", "rate") else None
    dates = [p for p in pool if "YYYY-MM-DD" in p.schema["description"]]
    if action.mode == "create":
        required, optional = pool[:rng.randint(2, 3)], pool[3:3 + rng.randint(1, 3)]
    elif action.mode == "search":
        required, optional = pool[:1], pool[1:1 + rng.randint(1, 3)]
    elif action.mode == "by_id":
        required, optional = [], ([REASON, NOTIFY] if name.startswith("cancel_") else [])
    elif action.mode == "update":
        required, optional = [], pool[:rng.randint(2, 4)]
    elif action.mode == "reschedule":
        required = dates[:1] or pool[:1]
        optional = [p for p in pool if "HH:MM" in p.schema["description"]][:1]
    else:  # rate
        required, optional = [STARS], [COMMENT]
    return Tool(name, domain.name, words, prefix, action, id_param, tuple(required), tuple(optional))


def _catalog() -> list[Tool]:
    return [_make_tool(d, a) for d in DOMAINS for a in ACTIONS]


CATALOG: list[Tool] = _catalog()
BY_NAME: dict[str, Tool] = {t.name: t for t in CATALOG}

SYSTEMS = ["", "", "", "You are a helpful assistant. Use the tools when they help.",
           "You are an assistant with access to tools. Call one only when it fits the request."]
OPENERS = ["", "", "", "Hi, ", "Hello! ", "Please: ", "Quick one: ", "Hey, "]
CLOSERS = ["", "", "", " Thanks!", " Thank you.", " Cheers."]


def _ref(rng: random.Random, tool: Tool) -> str:
    return f"{tool.id_prefix}-{rng.randint(10000, 99999)}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass
class Request:
    """A request for one tool: the user's words and the call that serves it."""

    tool: Tool
    text: str
    arguments: dict[str, Any]


def _request(rng: random.Random, tool: Tool, leave_out: tuple[str, ...] = ()) -> Request:
    """A request for ``tool``: the required values (except ``leave_out``) and some optional ones, in words."""
    args: dict[str, Any] = {}
    ref = _ref(rng, tool) if tool.id_param else ""
    if tool.id_param and tool.id_param not in leave_out:
        args[tool.id_param] = ref
    chosen = [p for p in tool.required if p.name not in leave_out]
    opt = list(tool.optional)
    if tool.action.mode == "update":  # an update sets at least one field
        chosen += rng.sample(opt, rng.randint(1, min(2, len(opt))))
    else:
        chosen += [p for p in opt if rng.random() < 0.45]
    parts = []
    for p in chosen:
        value, words = p.sample(rng)
        args[p.name] = value
        parts.append(words)
    rng.shuffle(parts)
    verb = rng.choice(tool.action.verbs)
    if tool.id_param and tool.id_param in leave_out:
        verb = verb.replace(" {id}", "")
    head = verb.format(w=tool.words, id=ref)
    if tool.action.mode == "update" and parts:
        body = f"{head}: {', '.join(parts)}"
    else:
        body = " ".join([head] + ([", ".join(parts)] if parts else []))
    q = "?" if head.startswith(("How", "What", "Are", "Any", "Can")) else "."
    opener = rng.choice(OPENERS)
    if opener.endswith((", ", ": ")):  # the request runs on in the same sentence
        body = body[0].lower() + body[1:]
    textual = _sentence(opener + body) + q + rng.choice(CLOSERS)
    return Request(tool, textual, args)


def _result_and_answer(rng: random.Random, req: Request) -> tuple[dict[str, Any], str]:
    """A plausible tool result and an answer that reads its facts back."""
    tool, args, w = req.tool, req.arguments, req.tool.words
    mode = tool.action.mode
    ident = args.get(tool.id_param or "", _ref(rng, tool))
    if tool.id_param and rng.random() < 0.1:
        return ({"error": f"No {w} with id {ident}.", "hint": f"Ids look like {tool.id_prefix}-12345."},
                f"I could not find a {w} with the id {ident}. Could you check the id?")
    price = round(rng.uniform(15, 400), 2)
    day = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if tool.name.startswith("book_"):
        return ({"status": "confirmed", "id": ident, "total_eur": price},
                f"Done: your {w} is booked. The id is {ident} and the total is {price} euros.")
    if tool.name.startswith("quote_"):
        return ({"price_eur": price, "valid_until": day},
                f"A {w} like that would cost {price} euros; the quote is valid until {day}.")
    if mode == "search":
        hits = [{"name": f"{p} {w}", "price_eur": round(rng.uniform(15, 400), 2)} for p in rng.sample(PLACES, rng.randint(0, 3))]
        if not hits:
            return {"results": []}, f"I found no {w} options matching that. Want me to try other details?"
        listed = "; ".join(f"{h['name']} at {h['price_eur']} euros" for h in hits)
        return {"results": hits}, f"I found {len(hits)} option{'s' if len(hits) > 1 else ''}: {listed}."
    if tool.name.startswith("cancel_"):
        refund = round(price * rng.choice([0, 0.5, 1]), 2)
        return ({"status": "cancelled", "id": ident, "refund_eur": refund},
                f"The {w} {ident} is cancelled" + (f"; {refund} euros will be refunded." if refund else ", with no refund."))
    if tool.name.startswith("get_"):
        status = rng.choice(["confirmed", "pending", "completed", "waiting for payment"])
        return ({"id": ident, "status": status, "date": day},
                f"The {w} {ident} is {status}, for {day}.")
    if mode == "update":
        changed = ", ".join(f"{k.replace('_', ' ')} {json.dumps(v, ensure_ascii=False)}" for k, v in args.items()
                            if k != tool.id_param)
        return ({"status": "updated", "id": ident, "changed": [k for k in args if k != tool.id_param]},
                f"I updated the {w} {ident}: {changed}.")
    if mode == "reschedule":
        new = next((v for k, v in args.items() if k != tool.id_param), day)
        return {"status": "rescheduled", "id": ident, "new_date": new}, f"The {w} {ident} is moved to {new}."
    avg = round(rng.uniform(3, 5), 1)
    return ({"status": "saved", "id": ident, "average_rating": avg},
            f"Thanks, your {args.get('stars')}-star rating is saved. The average for this {w} is now {avg}.")


def _call_turns(rng: random.Random, req: Request) -> list[Message]:
    call_id = f"call_{rng.randrange(16**8):08x}"
    result, answer = _result_and_answer(rng, req)
    return [
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": call_id, "type": "function",
             "function": {"name": req.tool.name, "arguments": json.dumps(req.arguments, ensure_ascii=False)}}]},
        {"role": "tool", "tool_call_id": call_id, "name": req.tool.name, "content": json.dumps(result, ensure_ascii=False)},
        {"role": "assistant", "content": answer},
    ]


def _system(rng: random.Random) -> list[Message]:
    s = rng.choice(SYSTEMS)
    return [{"role": "system", "content": s}] if s else []


def _distractors(rng: random.Random, tool: Tool, k: int) -> list[Tool]:
    """Other tools: about half the time the same domain's other actions (the hard case), else other domains."""
    same = [t for t in CATALOG if t.domain == tool.domain and t.name != tool.name]
    other = [t for t in CATALOG if t.domain != tool.domain]
    picked: list[Tool] = []
    while len(picked) < k:
        pool = same if (same and rng.random() < 0.5) else other
        t = rng.choice(pool)
        if t not in picked:
            picked.append(t)
    return picked


def _offer(rng: random.Random, tools: list[Tool]) -> list[ToolSpec]:
    tools = list(tools)
    rng.shuffle(tools)
    return [t.spec for t in tools]


def _arith(rng: random.Random) -> tuple[str, str]:
    a, b = rng.randint(3, 60), rng.randint(3, 60)
    r = rng.random()
    if r < 0.4:
        return rng.choice([f"What is {a} plus {b}?", f"Add {a} and {b}."]), f"{a} + {b} = {a + b}."
    if r < 0.7:
        return rng.choice([f"What is {a} times {b}?", f"Multiply {a} by {b}."]), f"{a} × {b} = {a * b}."
    n = rng.randint(2, 9)
    return f"How many grams are in {n} kilograms?", f"{n} kilograms is {n * 1000} grams."


def _cannot(offered: list[Tool], asked: Tool) -> str:
    can = _join([t.action.describe.format(w=t.words).rstrip(".").lower() for t in offered[:3]])
    return (f"Sorry, I can't {asked.action.says.format(w=asked.words)} here: none of my tools does that. "
            f"I can {can}.")


def _asks(tool: Tool, missing: list[str]) -> str:
    params = {p.name: p for p in (*tool.required, *tool.optional)}
    wants = [f"the {tool.words} id" if m == tool.id_param else params[m].ask for m in missing]
    return f"Sure, I can {tool.action.says.format(w=tool.words)}. First I need {_join(wants)}: what is it?" if len(wants) == 1 \
        else f"Sure, I can {tool.action.says.format(w=tool.words)}. I still need {_join(wants)}."


def _missing(rng: random.Random, tool: Tool) -> list[str]:
    names = ([tool.id_param] if tool.id_param else []) + [p.name for p in tool.required]
    return rng.sample(names, 1 if len(names) == 1 or rng.random() < 0.75 else 2)


def _answer_ask(req: Request, missing: list[str], rng: random.Random) -> tuple[str, dict[str, Any]]:
    """The user's reply to a question for ``missing``, and the full arguments it completes."""
    args = dict(req.arguments)
    bits = []
    params = {p.name: p for p in req.tool.required}
    for m in missing:
        if m == req.tool.id_param:
            ref = _ref(rng, req.tool)
            args[m] = ref
            bits.append(f"it's {ref}")
        else:
            value, words = params[m].sample(rng)
            args[m] = value
            bits.append(words)
    return _sentence(", ".join(bits)) + ".", args


def build(kind: str, rng: random.Random) -> tuple[list[Message], list[ToolSpec], dict[str, Any]]:
    """One conversation of family ``kind``: ``(messages, offered tools, meta)``; meta holds the expected call."""
    tool = rng.choice(CATALOG)
    sys_msgs = _system(rng)
    if kind == "gen_single":
        req = _request(rng, tool)
        msgs = [*sys_msgs, {"role": "user", "content": req.text}, *_call_turns(rng, req)]
        return msgs, [tool.spec], {"tool": tool.name, "arguments": req.arguments}
    if kind == "gen_choose":
        req = _request(rng, tool)
        offered = _offer(rng, [tool, *_distractors(rng, tool, rng.randint(1, 4))])
        msgs = [*sys_msgs, {"role": "user", "content": req.text}, *_call_turns(rng, req)]
        return msgs, offered, {"tool": tool.name, "arguments": req.arguments}
    if kind == "gen_none":
        others = [t for t in CATALOG if t.domain != tool.domain]
        offered_tools = rng.sample(others, rng.randint(1, 4))
        if rng.random() < 0.65:  # a request for a tool that is not on offer
            q, a = _request(rng, tool).text, _cannot(offered_tools, tool)
        else:  # something the model answers itself
            q, a = _arith(rng)
        msgs = [*sys_msgs, {"role": "user", "content": q}, {"role": "assistant", "content": a}]
        return msgs, _offer(rng, offered_tools), {"tool": None}
    if kind == "gen_ask":
        missing = _missing(rng, tool)
        req = _request(rng, tool, leave_out=tuple(missing))
        offered = [tool] if rng.random() < 0.4 else [tool, *_distractors(rng, tool, rng.randint(1, 3))]
        msgs = [*sys_msgs, {"role": "user", "content": req.text}, {"role": "assistant", "content": _asks(tool, missing)}]
        return msgs, _offer(rng, offered), {"tool": None, "missing": missing}
    if kind == "gen_multi":
        if rng.random() < 0.5:  # ask, get the value, call
            missing = _missing(rng, tool)
            req = _request(rng, tool, leave_out=tuple(missing))
            reply, full = _answer_ask(req, missing, rng)
            done = Request(tool, reply, full)
            offered = [tool, *_distractors(rng, tool, rng.randint(0, 3))]
            msgs = [*sys_msgs, {"role": "user", "content": req.text},
                    {"role": "assistant", "content": _asks(tool, missing)},
                    {"role": "user", "content": reply}, *_call_turns(rng, done)]
            return msgs, _offer(rng, offered), {"tool": tool.name, "arguments": full, "missing": missing}
        second = rng.choice(_distractors(rng, tool, 2))
        first_req, second_req = _request(rng, tool), _request(rng, second)
        offered = [tool, second, *_distractors(rng, tool, rng.randint(0, 2))]
        msgs = [*sys_msgs, {"role": "user", "content": first_req.text}, *_call_turns(rng, first_req),
                {"role": "user", "content": "One more thing. " + second_req.text},
                *_call_turns(rng, second_req)]
        return (msgs, _offer(rng, list({t.name: t for t in offered}.values())),
                {"tool": second.name, "arguments": second_req.arguments, "calls": [tool.name, second.name]})
    raise InvalidRequestError(f"Unknown general tool family {kind!r}.", hint=f"Use one of {KINDS}.")
