"""A starter library of short home-learning activities, copied into a school's own library.

Everything here is written for families: a few minutes, things found at home, no purchases.
Game links go only to long-standing free UK primary sites; there are no videos, so no made-up
video ids can mislead anyone. A school adds its own videos, games and printables on top.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.core.extensions import db
from app.models import Activity, ActivityKind

H, G = ActivityKind.HANDS_ON, ActivityKind.GAME

STARTER: list[dict] = [
    # --- Reception -------------------------------------------------------------------------------
    dict(
        kind=H,
        title="Sound hunt around the house",
        subject="Phonics",
        year_groups="R,1",
        minutes=10,
        instructions=(
            "Choose one sound your child is learning this week, for example 's'.\n"
            "Walk around the house together and find things that start with that sound "
            "(sock, spoon, sofa).\n"
            "Say each word slowly and stretch the first sound: ssss-ock.\n"
            "Count how many you found. Can you find one more tomorrow?"
        ),
    ),
    dict(
        kind=H,
        title="Counting steps to the door",
        subject="Number",
        year_groups="R,1",
        minutes=5,
        instructions=(
            "Stand at one end of a room and guess how many steps it takes to reach the door.\n"
            "Count the steps out loud together as you walk.\n"
            "Was your guess more or less? Try giant steps and tiny steps: which needs more?"
        ),
    ),
    dict(
        kind=H,
        title="Playdough letters",
        subject="Writing",
        year_groups="R",
        minutes=15,
        instructions=(
            "Roll playdough (or rolled-up foil) into long snakes.\n"
            "Shape the letters of your child's name, starting each letter at the right place.\n"
            "Trace each letter with a finger and say its sound.\n"
            "No playdough? Write the letters with a wet finger on a dry step or a window."
        ),
    ),
    dict(
        kind=H,
        title="Sink or float?",
        subject="Science",
        year_groups="R,1,2",
        minutes=15,
        instructions=(
            "Fill a bowl or the sink with water.\n"
            "Collect five small things that are safe to get wet: a spoon, a cork, a toy brick, "
            "a leaf, a coin.\n"
            "Before each one goes in, ask: will it sink or float? Then try it.\n"
            "Talk about what the floaters have in common."
        ),
    ),
    dict(
        kind=H,
        title="Bedtime story: what happens next?",
        subject="Reading",
        year_groups="R,1",
        minutes=10,
        instructions=(
            "Read a favourite picture book together.\n"
            "Stop before the last page and ask: what do you think happens next? Why?\n"
            "Turn the page and see. Was it what you expected?"
        ),
    ),
    dict(
        kind=H,
        title="Shape spotters walk",
        subject="Outdoors",
        year_groups="R,1",
        minutes=20,
        instructions=(
            "On a walk to the shop or the park, look for shapes.\n"
            "Circles (wheels, drain covers), rectangles (doors, windows), triangles (roofs, "
            "signs).\n"
            "Keep a tally on your fingers or on paper. Which shape did you see most?"
        ),
    ),
    # --- Key Stage 1 -----------------------------------------------------------------------------
    dict(
        kind=H,
        title="Number bonds to 10 with pasta",
        subject="Number",
        year_groups="1,2",
        minutes=10,
        instructions=(
            "Count out 10 pieces of dry pasta.\n"
            "Hide some under a cup. Your child counts the pieces left and works out how many "
            "are hidden.\n"
            "Lift the cup to check. Say the number sentence: 6 and 4 make 10.\n"
            "Swap roles so your child hides them for you."
        ),
    ),
    dict(
        kind=H,
        title="Rhyming pairs",
        subject="Phonics",
        year_groups="R,1",
        minutes=10,
        instructions=(
            "Say a simple word such as cat, pin or log.\n"
            "Take turns to say a word that rhymes: cat, hat, mat, sat.\n"
            "Made-up words count if they rhyme, for example zat.\n"
            "Who can keep the rhyme going longest?"
        ),
    ),
    dict(
        kind=H,
        title="Plant a bean in a jar",
        subject="Science",
        year_groups="1,2",
        minutes=15,
        instructions=(
            "Line a clean jar with damp kitchen roll.\n"
            "Push a dried bean (from a packet of butter beans or kidney beans) between the "
            "paper and the glass, so you can see it.\n"
            "Keep the paper damp and put the jar on a windowsill.\n"
            "Each day, look and draw what you see: which comes first, the root or the shoot?"
        ),
    ),
    dict(
        kind=H,
        title="Write a shopping list",
        subject="Writing",
        year_groups="1,2",
        minutes=10,
        instructions=(
            "Before your next shop, ask your child to write the list.\n"
            "Sound out each word together; it does not need to be spelt perfectly.\n"
            "At the shop, your child ticks off each item as it goes into the basket."
        ),
    ),
    dict(
        kind=H,
        title="Minibeast hunt",
        subject="Outdoors",
        year_groups="R,1,2",
        minutes=20,
        instructions=(
            "Look under stones, logs and leaves in a garden, yard or park.\n"
            "Count the legs of any creature you find: 6 legs is an insect, 8 is a spider.\n"
            "Look gently and put everything back as you found it.\n"
            "Draw your favourite minibeast and where it lives."
        ),
    ),
    dict(
        kind=H,
        title="Reading detective",
        subject="Reading",
        year_groups="1,2,3",
        minutes=15,
        instructions=(
            "After reading a chapter or a few pages, ask three questions:\n"
            "Who was in it? Where were they? What was the problem?\n"
            "Find one word in the text that tells you how a character felt."
        ),
    ),
    dict(
        kind=G,
        title="Hit the Button: number bonds and times tables",
        subject="Number",
        year_groups="1,2,3,4,5,6",
        minutes=10,
        url="https://www.topmarks.co.uk/maths-games/hit-the-button",
        instructions=(
            "Open the game and choose Number Bonds (or Times Tables for older children).\n"
            "Play one minute at a time and write down the score.\n"
            "Try to beat your own score, not anyone else's."
        ),
    ),
    dict(
        kind=G,
        title="PhonicsPlay games",
        subject="Phonics",
        year_groups="R,1,2",
        minutes=10,
        url="https://www.phonicsplay.co.uk/",
        instructions=(
            "Choose a game for the phase your child is working on (ask the teacher if unsure).\n"
            "Read each word aloud before choosing it: real word or nonsense word?\n"
            "Ten minutes is plenty."
        ),
    ),
    # --- Key Stage 2 -----------------------------------------------------------------------------
    dict(
        kind=H,
        title="Times-table snap",
        subject="Number",
        year_groups="3,4",
        minutes=15,
        instructions=(
            "Use a pack of playing cards without the picture cards.\n"
            "Choose this week's times table, for example the 4s.\n"
            "Turn over a card: the first to say the card times 4 wins it.\n"
            "Keep the cards you find hard in a pile and practise them again at the end."
        ),
    ),
    dict(
        kind=H,
        title="Kitchen fractions",
        subject="Number",
        year_groups="3,4,5",
        minutes=15,
        instructions=(
            "While making a sandwich, pizza or cake, cut it into halves, quarters and eighths.\n"
            "Ask: which is bigger, one half or two quarters? Three eighths or one half?\n"
            "Write one fact you found as a fraction sentence, for example 2/4 = 1/2."
        ),
    ),
    dict(
        kind=H,
        title="Shadow measuring",
        subject="Science",
        year_groups="3,4",
        minutes=20,
        instructions=(
            "On a sunny day, stand a stick or a bottle upright outside.\n"
            "Mark the end of its shadow with a stone at three different times of day.\n"
            "Measure each shadow with footsteps or a ruler.\n"
            "When was it shortest? Where was the Sun then?"
        ),
    ),
    dict(
        kind=H,
        title="Newspaper report about your weekend",
        subject="Writing",
        year_groups="4,5,6",
        minutes=25,
        instructions=(
            "Write a short newspaper report about something that happened this weekend.\n"
            "Give it a headline, then answer who, what, where, when and why in the first "
            "paragraph.\n"
            "Add a quote from a family member in speech marks."
        ),
    ),
    dict(
        kind=H,
        title="Recipe scaling challenge",
        subject="Number",
        year_groups="5,6",
        minutes=20,
        instructions=(
            "Find a recipe for 4 people.\n"
            "Work out the amounts for 2 people, then for 6 people.\n"
            "Check with a calculator only after you have tried it yourself.\n"
            "If you can, cook the smaller version together."
        ),
    ),
    dict(
        kind=H,
        title="Local habitat survey",
        subject="Outdoors",
        year_groups="3,4,5,6",
        minutes=30,
        instructions=(
            "Choose a small patch outdoors: a square metre of grass, a hedge or a wall.\n"
            "List every plant and animal you can see in ten minutes.\n"
            "Sort your list into living things that make their own food (plants) and those "
            "that eat others.\n"
            "Draw a simple food chain from what you found."
        ),
    ),
    dict(
        kind=H,
        title="Read aloud to someone",
        subject="Reading",
        year_groups="2,3,4,5,6",
        minutes=15,
        instructions=(
            "Read a few pages of your book aloud to a family member, a pet or a soft toy.\n"
            "Use different voices for the characters and pause at full stops.\n"
            "Tell your listener what you think will happen in the next chapter."
        ),
    ),
    dict(
        kind=H,
        title="Dissolving experiment",
        subject="Science",
        year_groups="5,6",
        minutes=20,
        instructions=(
            "Put the same amount of warm water into three cups.\n"
            "Add a spoonful of sugar to one, salt to another and sand or rice to the third.\n"
            "Stir each ten times. Which dissolve? Which do not?\n"
            "Predict: will the sugar dissolve faster in cold water? Test it fairly."
        ),
    ),
    dict(
        kind=G,
        title="Daily 10 mental maths",
        subject="Number",
        year_groups="1,2,3,4,5,6",
        minutes=10,
        url="https://www.topmarks.co.uk/maths-games/daily10",
        instructions=(
            "Choose your year group's level and one topic, such as addition or rounding.\n"
            "Answer the ten questions on paper, then reveal the answers.\n"
            "Pick the question you found hardest and explain it to someone at home."
        ),
    ),
    dict(
        kind=H,
        title="Kindness jar",
        subject="Wellbeing",
        year_groups="R,1,2,3,4,5,6",
        minutes=5,
        instructions=(
            "Each day this week, write or draw one kind thing someone in your family did.\n"
            "Fold the paper and put it in a jar or a box.\n"
            "At the weekend, read them all together."
        ),
    ),
]


def seed_starter_library(organisation_id: int) -> int:
    """Copy the starter activities into a school's library (skipping titles it already has);
    commit and return how many were added."""
    existing = set(
        db.session.scalars(sa.select(Activity.title).where(Activity.organisation_id == organisation_id))
    )
    added = 0
    for item in STARTER:
        if item["title"] in existing:
            continue
        db.session.add(Activity(organisation_id=organisation_id, **item))
        added += 1
    db.session.commit()
    return added
