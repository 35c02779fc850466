from django import forms

YES_NO_NOT_SURE = [("yes", "Yes"), ("no", "No"), ("not_sure", "Not sure")]


def yes_no(label: str, help_text: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, help_text=help_text, choices=YES_NO_NOT_SURE, widget=forms.RadioSelect
    )


def notes(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(label=label, help_text=help_text, required=False, widget=forms.Textarea)


class QuestionnaireForm(forms.Form):
    pregnant = yes_no("Are you pregnant or breastfeeding?", "Or trying to become pregnant.")
    isotretinoin = yes_no(
        "Have you taken isotretinoin in the last six months?", "For example Roaccutane."
    )
    anticoagulants = yes_no("Do you take blood thinners?", "For example warfarin or aspirin.")
    steroids = yes_no("Do you take steroid tablets?", "Creams and inhalers do not count.")
    retinoids = yes_no("Do you use retinoid creams?", "For example tretinoin or retinol.")
    antibiotics = yes_no("Are you taking antibiotics?", "Any course in the last two weeks.")
    diabetes = yes_no("Do you have diabetes?", "Type 1 or type 2.")
    keloids = yes_no("Do you form raised scars?", "Keloid or hypertrophic scars.")
    cold_sores = yes_no("Do you get cold sores?", "Herpes simplex around the mouth.")
    eczema = yes_no("Do you have eczema where you want treatment?", "Active or recent.")
    psoriasis = yes_no("Do you have psoriasis where you want treatment?", "Active or recent.")
    rosacea = yes_no("Do you have rosacea?", "Redness and flushing of the face.")
    acne = yes_no("Do you have active acne?", "Spots that are inflamed now.")
    infection = yes_no("Do you have a skin infection?", "Anywhere on the area to treat.")
    sunburn = yes_no("Are you sunburnt?", "Or have you used a sunbed this week.")
    tan = yes_no("Do you have a fake tan?", "On the area to treat.")
    fillers = yes_no("Have you had fillers recently?", "In the last two weeks.")
    botox = yes_no("Have you had anti-wrinkle injections recently?", "In the last two weeks.")
    peel = yes_no("Have you had a chemical peel recently?", "In the last four weeks.")
    laser = yes_no("Have you had laser treatment recently?", "In the last four weeks.")
    waxing = yes_no("Have you waxed the area this week?", "Or used hair removal cream.")
    allergies = yes_no("Are you allergic to anything?", "Medicines, plasters or creams.")
    metal = yes_no("Are you allergic to metals?", "Nickel or stainless steel.")
    immune = yes_no("Is your immune system weakened?", "By illness or medicines.")
    bleeding = yes_no("Do you bleed or bruise easily?", "Or have a bleeding disorder.")
    medicines = notes("Which medicines do you take?", "Include the dose if you know it.")
    conditions = notes("Any other medical conditions?", "Anything you are treated for.")
    treatments = notes("Any other recent skin treatments?", "With their dates.")
    concerns = notes("What would you like to improve?", "For example scars or fine lines.")
    anything_else = notes("Anything else we should know?", "It helps us prepare.")
